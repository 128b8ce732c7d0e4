/**
 * `lagstorm capacity`: the largest player count at which a scenario's SLOs still hold. Each step is
 * a whole run (its own stack, faults, checkers) with the bot groups scaled to a player count: the
 * count doubles until the verdict fails, then bisects down to the resolution. A safety check that
 * fails (lost, doubled or created currency…) is a bug, not a capacity limit: the search stops there.
 * With `agents`, every step's bots run as that many agents (`run --agents N`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, InvalidInputError } from './exit-codes';
import type { ReporterName } from '../reports';
import type { RunParts } from './parts';
import { agentsOptionProblems } from './agent-launch';
import { loadScenario, runScenario, type RunOptions } from './runner';
import { MAX_BOTS_PER_GROUP, type BotGroup, type Scenario } from './scenario/schema';
import type { RunSummary, Verdict } from './summary';
import { isLivenessCheck } from '../verdict/types';

/** The most bots one machine's fleet runs: the cap is per machine, so with `--agents N` it is N times this. */
export const MAX_PLAYERS_PER_MACHINE = 20_000;

/** Players one bot group stands for: its closed-model `count` or its open-model `maxBots`. */
function sizeOf(group: BotGroup): number {
  return group.count ?? group.arrival?.maxBots ?? 0;
}

/** Players a scenario's bot groups stand for. */
export function playersOf(scenario: Pick<Scenario, 'bots'>): number {
  return Object.values(scenario.bots).reduce((sum, group) => sum + sizeOf(group), 0);
}

/**
 * The scenario's bots scaled to `players` in total. Each group keeps its share as closely as whole
 * bots allow (at least one bot each): bots go to, or come from, the group furthest from its exact
 * share. Closed-model stage targets scale with their group (capped at its count); open-model
 * arrival rates (and arrival stage targets, which are rates) scale by the overall factor.
 */
export function scaleBots(scenario: Scenario, players: number): Scenario {
  const names = Object.keys(scenario.bots);
  if (players < names.length) throw new InvalidInputError(`cannot spread ${players} players over ${names.length} bot groups: start at ${names.length} or more`);
  const factor = players / playersOf(scenario);
  const exact = new Map(names.map((name) => [name, sizeOf(scenario.bots[name]) * factor]));
  const whole = new Map(names.map((name) => [name, Math.max(1, Math.floor(exact.get(name)!))]));
  const gap = (name: string) => exact.get(name)! - whole.get(name)!; // > 0: the group is short of its share
  const byName = (a: string, b: string) => a.localeCompare(b);
  for (let left = players - [...whole.values()].reduce((sum, size) => sum + size, 0); left !== 0; ) {
    if (left > 0) {
      const neediest = [...names].sort((a, b) => gap(b) - gap(a) || byName(a, b))[0];
      whole.set(neediest, whole.get(neediest)! + 1);
      left -= 1;
    } else {
      const richest = names.filter((name) => whole.get(name)! > 1).sort((a, b) => gap(a) - gap(b) || byName(a, b))[0];
      whole.set(richest, whole.get(richest)! - 1);
      left += 1;
    }
  }
  const bots = Object.fromEntries(
    names.map((name): [string, BotGroup] => {
      const group = scenario.bots[name];
      const size = whole.get(name)!;
      if (group.count !== undefined) {
        const scaleTarget = (target: number) => (target === 0 ? 0 : Math.min(size, Math.max(1, Math.round((target * size) / group.count!))));
        return [name, { ...group, count: size, ...(group.stages ? { stages: group.stages.map((stage) => ({ ...stage, target: scaleTarget(stage.target) })) } : {}) }];
      }
      const arrival = group.arrival!;
      const stages = arrival.stages?.map((stage) => ({ ...stage, target: stage.target * factor }));
      return [name, { ...group, arrival: { ...arrival, rate: arrival.rate * factor, maxBots: size, ...(stages ? { stages } : {}) } }];
    }),
  );
  return { ...scenario, bots };
}

/** The largest bot group of the scenario scaled to `players`. */
function largestGroupAt(scenario: Scenario, players: number): { name: string; size: number } {
  return Object.entries(scaleBots(scenario, players).bots)
    .map(([name, group]) => ({ name, size: sizeOf(group) }))
    .reduce((largest, group) => (group.size > largest.size ? group : largest));
}

export interface PlayerCeiling {
  /** The most players a step may run. */
  players: number;
  /** What sets it: the machines (20 000 per agent) or one bot group reaching the schema's per-group limit. */
  reason: { kind: 'machines'; agents: number } | { kind: 'group'; group: string };
}

/**
 * The most players a search may run: 20 000 per machine (one per agent), and no bot group scaled
 * past the schema's per-group limit (which binds only with agents: one group is then the whole fleet).
 */
export function playerCeiling(scenario: Scenario, agents = 1): PlayerCeiling {
  const machines = MAX_PLAYERS_PER_MACHINE * agents;
  const names = Object.keys(scenario.bots);
  if (machines < names.length || largestGroupAt(scenario, machines).size <= MAX_BOTS_PER_GROUP) return { players: machines, reason: { kind: 'machines', agents } };
  const own = playersOf(scenario);
  const largestOwn = Math.max(...Object.values(scenario.bots).map(sizeOf));
  // The largest group's exact share reaches the limit here; whole-bot rounding moves a bot either way, so settle on the last count that fits.
  const fits = (players: number) => largestGroupAt(scenario, players).size <= MAX_BOTS_PER_GROUP;
  let players = Math.min(machines, Math.floor((MAX_BOTS_PER_GROUP * own) / largestOwn));
  while (players > names.length && !fits(players)) players -= 1;
  while (players < machines && fits(players + 1)) players += 1;
  return { players, reason: { kind: 'group', group: largestGroupAt(scenario, machines).name } };
}

function aboveCeilingMessage(max: number, ceiling: PlayerCeiling): string {
  if (ceiling.reason.kind === 'group') {
    return `--max ${max} would give bot group "${ceiling.reason.group}" more than ${MAX_BOTS_PER_GROUP} bots, the most one group may have; lower --max to ${ceiling.players} or split the group in the scenario`;
  }
  const { agents } = ceiling.reason;
  if (agents === 1) return `--max ${max} is above ${MAX_PLAYERS_PER_MACHINE} bots, the most one machine's fleet runs; lower it, or spread the bots over agents with --agents N`;
  return `--max ${max} is above ${ceiling.players} bots (${MAX_PLAYERS_PER_MACHINE} per agent × ${agents} agents); lower it or add agents`;
}

export interface CapacityStep {
  players: number;
  verdict: Verdict;
  /** What broke: SLOs and liveness checks (a capacity limit), safety checks (a bug), harness errors. */
  sloFailures: string[];
  safetyFailures: string[];
  errors: string[];
  actionP99Ms?: number;
  actionsPerSecond: number;
  runDir: string;
  seconds: number;
}

export type CapacityOutcome =
  /** Passes at `maxPassing`, fails at `firstFailing`, within the resolution. */
  | 'found'
  /** Still passing at --max: the capacity is at least that. */
  | 'at-least-max'
  /** Fails even with one player per group. */
  | 'none'
  /** A safety check failed at some count: a bug under load, fix it first. */
  | 'bug'
  /** A step could not decide (harness or infrastructure error, saturated load generator). */
  | 'error'
  /** --max-steps ran out before the bounds met the resolution. */
  | 'steps-exhausted';

export interface CapacityResult {
  scenario: string;
  seed: number;
  /** With `--agents N`: every step's bots ran as `count` agents started by `engine`. */
  agents?: { count: number; engine: string };
  outcome: CapacityOutcome;
  maxPassing?: number;
  firstFailing?: number;
  steps: CapacityStep[];
  exitCode: 0 | 1 | 2;
  /** One line for people. */
  summary: string;
}

export interface SearchOptions {
  start: number;
  /** Smallest count worth running (one bot per group). */
  min: number;
  max: number;
  /** Stop when firstFailing - maxPassing is at most this (default 5 % of maxPassing, at least 1). */
  resolution?: number;
  maxSteps: number;
  /** Fail (exit 1) when the capacity found is below this. */
  require?: number;
}

/** The search itself, over any step runner (the real one runs a whole scenario). */
export async function searchCapacity(runStep: (players: number) => Promise<CapacityStep>, options: SearchOptions): Promise<Omit<CapacityResult, 'scenario' | 'seed' | 'agents'>> {
  const steps: CapacityStep[] = [];
  let maxPassing: number | undefined;
  let firstFailing: number | undefined;
  let players = Math.min(Math.max(options.start, options.min), options.max);
  const finish = (outcome: CapacityOutcome, summary: string): Omit<CapacityResult, 'scenario' | 'seed' | 'agents'> => {
    let exitCode: 0 | 1 | 2 = outcome === 'error' || outcome === 'steps-exhausted' ? ExitCode.harnessError : outcome === 'bug' || outcome === 'none' ? ExitCode.verdictFailed : ExitCode.pass;
    let line = summary;
    if (options.require !== undefined && exitCode !== ExitCode.verdictFailed) {
      const met = (maxPassing ?? 0) >= options.require;
      // The gate's question is answered once a passing step reached --require, even if the search could not finish.
      if (met && outcome === 'steps-exhausted') exitCode = ExitCode.pass;
      if (met) line += `; meets the required ${options.require}`;
      else if (exitCode === ExitCode.pass) {
        exitCode = ExitCode.verdictFailed;
        line += `; below the required ${options.require}`;
      }
    }
    return { outcome, maxPassing, firstFailing, steps, exitCode, summary: line };
  };
  for (;;) {
    if (steps.length >= options.maxSteps) {
      return finish('steps-exhausted', `--max-steps ${options.maxSteps} ran out between ${maxPassing ?? '?'} (pass) and ${firstFailing ?? '?'} (fail) players; raise --max-steps or --resolution`);
    }
    const step = await runStep(players);
    steps.push(step);
    if (step.safetyFailures.length) return finish('bug', `at ${players} players a safety check failed (${step.safetyFailures.join('; ')}): a bug under load, not a capacity limit; see ${step.runDir}`);
    // A harness error makes even a failed SLO untrustworthy (the fault did not heal, the bots were stopped…).
    if (step.verdict === 'error' || step.errors.length) {
      return finish('error', `at ${players} players the run could not decide (${step.errors.join('; ') || 'unknown checks or SLOs'}); see ${step.runDir}`);
    }
    if (step.verdict === 'pass') maxPassing = players;
    else firstFailing = players;

    if (firstFailing === undefined) {
      if (players >= options.max) return finish('at-least-max', `SLOs still hold at --max ${options.max} players: the capacity is at least that`);
      players = Math.min(players * 2, options.max);
    } else if (maxPassing === undefined) {
      if (players <= options.min) return finish('none', `SLOs fail even at ${players} players (${step.sloFailures.join('; ')})`);
      players = Math.max(Math.floor(players / 2), options.min);
    } else {
      if (firstFailing - maxPassing <= (options.resolution ?? Math.max(1, Math.floor(maxPassing * 0.05)))) {
        return finish('found', `capacity: ${maxPassing} players (SLOs hold); they break at ${firstFailing}`);
      }
      players = Math.floor((maxPassing + firstFailing) / 2);
    }
  }
}

export interface CapacityRunOptions {
  scenarioFile: string;
  seed?: number;
  outDir: string;
  start?: number;
  max?: number;
  resolution?: number;
  maxSteps?: number;
  require?: number;
  reporters?: ReporterName[];
  /** Run every step's bots as `count` agents started by `engine` (`capacity --agents N --engine local`). */
  agents?: { count: number; engine: string };
  signal?: AbortSignal;
  /** Progress lines for people. */
  print?: (line: string) => void;
  /** Runs one step (default: a whole run through runScenario); tests pass a fake. */
  runScenario?: (options: RunOptions, parts: RunParts) => Promise<RunSummary>;
}

function stepOf(players: number, summary: RunSummary, seconds: number): CapacityStep {
  const failedChecks = summary.checks.filter((check) => check.valid === false);
  return {
    players,
    verdict: summary.verdict,
    sloFailures: [
      ...summary.slos.filter((slo) => slo.ok === false).map((slo) => `SLO ${slo.metric}[${slo.phase}] ${slo.limit}: observed ${slo.observed}`),
      ...failedChecks.filter((check) => isLivenessCheck(check.name)).map((check) => `${check.name}: ${check.summary}`),
    ],
    safetyFailures: failedChecks.filter((check) => !isLivenessCheck(check.name)).map((check) => `${check.name}: ${check.summary}`),
    errors: summary.errors,
    actionP99Ms: summary.stats.latency.all?.p99,
    actionsPerSecond: summary.stats.actionsPerSecond,
    runDir: summary.runDir,
    seconds,
  };
}

/** Runs the search with real runs under `<outDir>/capacity-<time>/` and writes capacity.json and capacity.md there. */
export async function runCapacity(options: CapacityRunOptions, parts: RunParts): Promise<CapacityResult & { dir: string }> {
  const loaded = loadScenario({ scenarioFile: options.scenarioFile }, parts);
  const { scenario } = loaded;
  const seed = options.seed ?? scenario.seed ?? Math.floor(Math.random() * 2 ** 31);
  const min = Object.keys(scenario.bots).length;
  const own = playersOf(scenario);
  const start = options.start ?? Math.min(own, options.max ?? own);
  if (options.agents) {
    const problems = agentsOptionProblems(options.agents, loaded, parts);
    if (problems.length) throw new InvalidInputError(problems.join('; '));
  }
  if (options.start !== undefined && options.start < min) throw new InvalidInputError(`--start ${options.start} is below one bot per group (${min} groups); use ${min} or more`);
  if (options.max !== undefined && options.max < min) throw new InvalidInputError(`--max ${options.max} is below one bot per group (${min} groups); use ${min} or more`);
  const ceiling = playerCeiling(scenario, options.agents?.count);
  const max = options.max ?? Math.min(Math.max(start * 64, 64), ceiling.players);
  if (max > ceiling.players) throw new InvalidInputError(aboveCeilingMessage(max, ceiling));
  if (start > max) throw new InvalidInputError(`--start ${start} is above --max ${max}; lower --start or raise --max`);
  if (options.require !== undefined && options.require > max) throw new InvalidInputError(`--require ${options.require} is above --max ${max}, so it could never be shown; raise --max or lower --require`);
  const dir = path.join(options.outDir, `capacity-${new Date().toISOString().replace(/[:.]/g, '-')}-${scenario.name}`);
  fs.mkdirSync(dir, { recursive: true });
  const print = options.print ?? (() => undefined);
  const run = options.runScenario ?? runScenario;
  const asAgents = options.agents ? ` as ${options.agents.count} agents (${options.agents.engine})` : '';
  const search = await searchCapacity(
    async (players) => {
      const began = Date.now();
      if (options.signal?.aborted) return { players, verdict: 'error', sloFailures: [], safetyFailures: [], errors: ['interrupted'], actionsPerSecond: 0, runDir: dir, seconds: 0 };
      print(`capacity: running ${players} players${asAgents}…`);
      const summary = await run({ scenarioInput: scaleBots(scenario, players), seed, outDir: dir, reporters: options.reporters ?? ['json', 'markdown'], agents: options.agents, signal: options.signal }, parts);
      const step = stepOf(players, summary, (Date.now() - began) / 1000);
      const p99 = step.actionP99Ms === undefined ? '' : `, action p99 ${step.actionP99Ms.toFixed(1)} ms`;
      print(`capacity: ${players} players → ${step.verdict}${p99}, ${step.actionsPerSecond.toFixed(0)} actions/s${step.sloFailures.length ? ` (${step.sloFailures.join('; ')})` : ''}`);
      return step;
    },
    {
      start,
      min,
      max,
      resolution: options.resolution,
      maxSteps: options.maxSteps ?? 16,
      require: options.require,
    },
  );
  const result: CapacityResult & { dir: string } = { scenario: scenario.name, seed, ...(options.agents ? { agents: options.agents } : {}), ...search, dir };
  fs.writeFileSync(path.join(dir, 'capacity.json'), JSON.stringify(result, null, 2));
  fs.writeFileSync(path.join(dir, 'capacity.md'), capacityMarkdown(result));
  return result;
}

export function capacityMarkdown(result: CapacityResult): string {
  const rows = result.steps.map((step) =>
    [
      step.players,
      step.verdict,
      step.actionP99Ms === undefined ? '–' : step.actionP99Ms.toFixed(1),
      step.actionsPerSecond.toFixed(0),
      [...step.safetyFailures, ...step.sloFailures, ...step.errors].join('<br>') || '–',
      path.basename(step.runDir),
    ].join(' | '),
  );
  return [
    `# Capacity: ${result.scenario} (seed ${result.seed})`,
    '',
    `**${result.summary}**`,
    '',
    result.agents ? `Every step's bots ran as ${result.agents.count} agents (engine ${result.agents.engine}).` : "Every step's bots ran in one process (no --agents).",
    '',
    '| players | verdict | action p99 (ms) | actions/s | what broke | run |',
    '| ---: | --- | ---: | ---: | --- | --- |',
    ...rows.map((row) => `| ${row} |`),
    '',
  ].join('\n');
}
