/**
 * The engine port: how a coordinator gets N agent processes somewhere. An engine launches N
 * copies of one `lagstorm agent` command line; each copy learns its index from its environment
 * (`local`: LAGSTORM_AGENT_INDEX; Docker Swarm: LAGSTORM_AGENT_SLOT={{.Task.Slot}}, since Swarm
 * expands templates only in --env; Kubernetes: JOB_COMPLETION_INDEX of an Indexed Job), so one
 * identical spec fits a replicated job. The engine reports every agent that ends; whether that was
 * early is the coordinator's call. `stop()` always runs in teardown.
 */
import type { DebrisRecorder } from '../stack/debris';

export interface AgentLaunch {
  runId: string;
  count: number;
  /** The run's resolved scenario (agent-scenario.json) on this machine; a container engine ships it to the agents. */
  scenarioFile: string;
  /** The options after `lagstorm agent <scenario>` every agent gets (`--coordinator ... --run-id ...`). */
  options: string[];
  /** The folder of the game plug-in when the scenario names it by path (a bundled game is in the agent image). */
  gameDir?: string;
  /** Extra environment of every agent. */
  env: Record<string, string>;
  /** Where the engine writes each agent's output (agent-<index>.log), when it can. */
  logDir: string;
  /** The run's state file: what the engine starts is recorded there until it ends, so `lagstorm cleanup` finds it after a SIGKILL. */
  debris?: DebrisRecorder;
  log?: (line: string) => void;
}

export interface LaunchedAgents {
  /** What the engine knows of agent `index` for messages: "pid 1234", a task id, a pod name. */
  describe(index: number): string;
  /** Called once per agent that ends, whatever the reason ("exited with code 0", "killed by SIGKILL"). */
  onExit(listener: (index: number, how: string) => void): void;
  /** Ends every agent still running (politely, then by force) and removes what the engine made. Idempotent. */
  stop(): Promise<void>;
}

export interface AgentEngine {
  readonly name: string;
  launch(launch: AgentLaunch): Promise<LaunchedAgents>;
}

/** The environment variables an agent reads its index from, in order (see `agentIndexFromEnv`). */
export const AGENT_INDEX_ENV = { index: 'LAGSTORM_AGENT_INDEX', kubernetes: 'JOB_COMPLETION_INDEX', swarmJobSlot: 'LAGSTORM_AGENT_SLOT' } as const;

/**
 * The agent's 0-based index from its environment, or undefined when none of the variables is set.
 * A Swarm replicated job numbers its tasks' slots 0..N−1, and {{.Task.Slot}} renders slot 0 as the
 * node id (swarmkit falls back to it when a task has no slot; measured here): a value that is not
 * a number is slot 0.
 */
export function agentIndexFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const read = (name: string): number | undefined => {
    const text = env[name];
    if (text === undefined || text === '') return undefined;
    if (!/^\d+$/.test(text)) throw new Error(`${name}="${text}" is not a non-negative integer`);
    return Number(text);
  };
  const index = read(AGENT_INDEX_ENV.index) ?? read(AGENT_INDEX_ENV.kubernetes);
  if (index !== undefined) return index;
  const slot = env[AGENT_INDEX_ENV.swarmJobSlot];
  if (slot === undefined || slot === '') return undefined;
  return /^\d+$/.test(slot) ? Number(slot) : 0;
}
