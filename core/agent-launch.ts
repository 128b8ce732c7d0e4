/**
 * What `run --agents N` hands its engine, built in one place so `lagstorm agents manifest` renders
 * exactly what a run would apply: the checks of the count and the engine's settings, the agents'
 * command-line options, the game's folder when it is given by path, and the bots of the largest agent.
 */
import path from 'node:path';
import type { AgentEngine, AgentEngineSettings, AgentLaunch } from '../agents/engine';
import { AGENT_SETTING_FLAGS } from '../agents/engine';
import { evenSegment } from '../agents/protocol';
import { buildFleetPlan, planForSegment, segmentTuple } from '../bots';
import { heapProfileEnv } from '../bots/fleet/lean-heap';
import type { DebrisRecorder } from '../stack/debris';
import type { RunParts } from './parts';
import type { LoadedScenario } from './runner';
import type { ResolvedScenario } from './scenario/schema';

export const MAX_AGENTS = 64;

/** The run's resolved scenario as every agent reads it (runs/<id>/agent-scenario.json). */
export function agentScenarioJson(scenario: ResolvedScenario): string {
  return JSON.stringify(scenario, null, 2);
}

/** The game plug-in's folder when the scenario names it by path (a bundled game is in every agent). */
export function gameDirOf(loaded: Pick<LoadedScenario, 'scenario' | 'gameModule'>, parts: Pick<RunParts, 'games'>): string | undefined {
  return parts.games.names().includes(loaded.scenario.game) ? undefined : path.dirname(loaded.gameModule);
}

/** Everything wrong with running `count` agents of `loaded` on `engine` with `settings`, each naming its flag or field and the fix. */
export function agentsProblems(engine: AgentEngine, count: number, settings: AgentEngineSettings, loaded: LoadedScenario, parts: Pick<RunParts, 'games'>): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(count) || count < 1 || count > MAX_AGENTS) problems.push(`--agents must be between 1 and ${MAX_AGENTS}, not ${count}`);
  const given = (Object.keys(settings) as Array<keyof AgentEngineSettings>).filter((key) => settings[key] !== undefined);
  for (const key of given.filter((key) => !engine.settings.includes(key))) problems.push(`${AGENT_SETTING_FLAGS[key]} does not apply to --engine ${engine.name}; drop it`);
  const { faults, target } = loaded.scenario;
  const faultSteps = faults.timeline.length + (faults.random?.mix.length ?? 0);
  problems.push(...(engine.inputProblems?.({ count, gameDir: gameDirOf(loaded, parts), hasTarget: target !== undefined, faultSteps }) ?? []));
  return problems;
}

/** A run's `agents` option: the engine by name (an unknown one is its own problem), then agentsProblems. */
export function agentsOptionProblems(agents: { count: number; engine: string; settings?: AgentEngineSettings }, loaded: LoadedScenario, parts: Pick<RunParts, 'games' | 'engine'>): string[] {
  const settings = agents.settings ?? {};
  try {
    if (!parts.engine) throw new Error('this build has no agent engines');
    return agentsProblems(parts.engine(agents.engine, settings), agents.count, settings, loaded, parts);
  } catch (error) {
    return [(error as Error).message];
  }
}

/** The most bots any one of `count` agents plays (agent i gets segment i/N of the even sequence). */
export function botsPerAgent(scenario: ResolvedScenario, game: LoadedScenario['game'], count: number): number {
  const plan = buildFleetPlan(scenario, game);
  let most = 0;
  for (let index = 0; index < count; index++) {
    const split = evenSegment(index, count);
    most = Math.max(most, planForSegment(plan, segmentTuple(split.segment, split.sequence)).bots.length);
  }
  return most;
}

export interface AgentLaunchInput {
  loaded: LoadedScenario;
  scenario: ResolvedScenario;
  runId: string;
  count: number;
  /** Where agentScenarioJson(scenario) was written. */
  scenarioFile: string;
  /** The coordinator as the agents reach it. */
  coordinatorUrl: string;
  /** ws:// URL the agents' bots connect to, and its IPv6 twin. */
  target: string;
  targetV6?: string;
  /** One loopback /metrics port per agent (agents on this machine only). */
  metricsPorts?: number[];
  runDir: string;
  debris?: DebrisRecorder;
  log?: (line: string) => void;
}

export function agentLaunchFor(input: AgentLaunchInput, parts: Pick<RunParts, 'games'>): AgentLaunch {
  const { runId, count } = input;
  const gameDir = gameDirOf(input.loaded, parts);
  return {
    runId,
    count,
    scenarioFile: input.scenarioFile,
    ...(gameDir ? { gameDir } : {}),
    options: [
      '--coordinator', input.coordinatorUrl,
      '--run-id', runId,
      '--agents', String(count),
      '--target', input.target,
      ...(input.targetV6 ? ['--target-v6', input.targetV6] : []),
      ...(input.metricsPorts?.length ? ['--metrics-ports', input.metricsPorts.join(',')] : []),
    ],
    env: heapProfileEnv(),
    botsPerAgent: botsPerAgent(input.scenario, input.loaded.game, count),
    logDir: path.join(input.runDir, 'logs'),
    runDir: input.runDir,
    ...(input.debris ? { debris: input.debris } : {}),
    ...(input.log ? { log: input.log } : {}),
  };
}
