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
  /** The most bots one agent plays (engines that reserve memory size it from this). */
  botsPerAgent?: number;
  /** Where the engine writes each agent's output (agent-<index>.log), when it can. */
  logDir: string;
  /** The run's folder, for what the engine writes besides logs (the Kubernetes manifest); default: logDir. */
  runDir?: string;
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

/** The `run --agents` flags beyond the count and the engine; each engine reads the ones it needs. */
export interface AgentEngineSettings {
  /** Host the coordinator listens on (`--coordinator-listen`). Default 127.0.0.1; engines whose agents run elsewhere default to coordinatorAddress. */
  coordinatorListen?: string;
  /** The coordinator's port (`--coordinator-port`). Default: any free port, or the engine's own (kubernetes: 7380). */
  coordinatorPort?: number;
  /** The IP of this machine as the agents reach it (`--coordinator-address`), for engines whose agents run elsewhere. */
  coordinatorAddress?: string;
  /** ws:// URL the agents' bots connect to (`--agents-target`), for agents that cannot reach the run's loopback proxy. */
  target?: string;
  /** The agent image of the container engines (`--image`). Default lagstorm/agent:latest. */
  image?: string;
  /** Kubernetes namespace (`--namespace`). Default "default". */
  namespace?: string;
  /** CPU request per agent (`--agent-cpu`), Kubernetes quantity. Default "1". */
  cpu?: string;
  /** Memory request per agent (`--agent-memory`), Kubernetes quantity. Default: 256 MiB + 40 KB per bot of the largest agent. */
  memory?: string;
  /** The image holds the scenario's game at its path on this machine (`--game-in-image`), so no host folder is mounted. */
  gameInImage?: boolean;
}

/** Each setting's flag, for messages. */
export const AGENT_SETTING_FLAGS: Record<keyof AgentEngineSettings, string> = {
  coordinatorListen: '--coordinator-listen',
  coordinatorPort: '--coordinator-port',
  coordinatorAddress: '--coordinator-address',
  target: '--agents-target',
  image: '--image',
  namespace: '--namespace',
  cpu: '--agent-cpu',
  memory: '--agent-memory',
  gameInImage: '--game-in-image',
};

/** What an engine may need to know of a run's agents before anything starts. */
export interface AgentsPlan {
  count: number;
  /** The game's folder on this machine, when the scenario names its game by path. */
  gameDir?: string;
  /** The scenario plays a backend that is already running (`target:`), not one lagstorm starts here. */
  hasTarget: boolean;
  /** How many fault steps the scenario has (its timeline and random mix). */
  faultSteps: number;
}

/** Where the coordinator listens and the URL its agents reach it at. */
export interface CoordinatorPlacement {
  host: string;
  /** 0: any free port. */
  port: number;
  /** The agents' `--coordinator` URL once the coordinator listens on `port`. */
  urlForAgents(port: number): string;
}

export interface AgentEngine {
  readonly name: string;
  /** Its agents run on this machine (they share its monotonic clock and reach its loopback proxy and metrics ports). */
  readonly sameMachine: boolean;
  /** The settings it reads; the runner refuses the others' flags for this engine. */
  readonly settings: ReadonlyArray<keyof AgentEngineSettings>;
  /** How long every agent may take to be ready (a container engine may pull its image first); default the runner's 90 s. */
  readonly readyTimeoutMs?: number;
  /** Where the coordinator listens for this engine's agents; default 127.0.0.1 (or --coordinator-listen), any free port, a loopback URL. */
  coordinatorPlacement?(runId: string): CoordinatorPlacement;
  /** What about this run the engine cannot take (exit 3), found before anything starts: each names the flag or field and the fix. */
  inputProblems?(plan: AgentsPlan): string[];
  /** Checks the engine's tools before anything starts (kubectl and its context); throws HarnessError naming the fix. */
  checkReady?(): Promise<void>;
  launch(launch: AgentLaunch): Promise<LaunchedAgents>;
}

/** The local default: loopback (or --coordinator-listen), the given port or any free one, and the URL this machine uses. */
export function defaultCoordinatorPlacement(settings: AgentEngineSettings): CoordinatorPlacement {
  const host = settings.coordinatorListen ?? '127.0.0.1';
  return { host, port: settings.coordinatorPort ?? 0, urlForAgents: (port) => `http://${urlHostOf(host)}:${port}` };
}

/** A listen address as the host of a URL from this machine: every interface is reached on loopback; IPv6 in brackets. */
export function urlHostOf(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
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
