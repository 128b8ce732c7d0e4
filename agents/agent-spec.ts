/**
 * One description of a run's agents as containers, rendered by every container engine: Docker
 * Swarm turns it into `docker service create` arguments (a replicated job), Kubernetes into an
 * Indexed Job, a ConfigMap and a Service. Keeping one spec is what makes the two engines run the
 * same command line: the agent image's entry point is `lagstorm`, the scenario arrives as a file
 * mounted from the engine's config store, and each copy reads its index from its environment.
 */
import { IMAGES } from '../stack/images/images';
import type { AgentLaunch } from './engine';

/** Where every container engine mounts the run's resolved scenario inside the agent. */
export const SCENARIO_IN_CONTAINER = '/etc/lagstorm/agent-scenario.json';

/** The agent image (stack/images role `agent`): entry point `node bin/lagstorm.js`, WORKDIR /app. Users with a registry push it and pass its name. */
export const DEFAULT_AGENT_IMAGE = IMAGES.agent;

/** The label every object of a run's agents carries (value: the run id), so cleanup can find them. */
export const RUN_LABEL = 'lagstorm.run-id';

export interface AgentContainerSpec {
  /** DNS-safe and unique per run: the Swarm service, the Kubernetes Job. */
  name: string;
  runId: string;
  image: string;
  count: number;
  /** Arguments to the image's entry point (`lagstorm`): `agent <scenario in container> --coordinator ...`. */
  args: string[];
  env: Record<string, string>;
  /** The resolved scenario (agent-scenario.json), shipped as a Swarm config / ConfigMap. */
  scenario: { hostFile: string; containerPath: string };
  /** Host folders the agent reads at the same path (a game plug-in given by path), mounted read-only. */
  hostPaths: string[];
  labels: Record<string, string>;
}

/** A name Swarm and Kubernetes both accept: lowercase letters, digits and '-', at most 63 characters, starting with a letter. */
export function dnsName(prefix: string, runId: string): string {
  const safe = `${prefix}-${runId}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-');
  return safe.slice(0, 63).replace(/-+$/, '');
}

/** The container spec of `launch` with `image`: the same arguments the local engine runs, with the scenario at its in-container path. */
export function agentContainerSpec(launch: AgentLaunch, image: string): AgentContainerSpec {
  return {
    name: dnsName('lagstorm-agents', launch.runId),
    runId: launch.runId,
    image,
    count: launch.count,
    args: ['agent', SCENARIO_IN_CONTAINER, ...launch.options],
    env: { ...launch.env },
    scenario: { hostFile: launch.scenarioFile, containerPath: SCENARIO_IN_CONTAINER },
    hostPaths: launch.gameDir ? [launch.gameDir] : [],
    labels: { [RUN_LABEL]: launch.runId, 'app.kubernetes.io/name': 'lagstorm-agent', 'app.kubernetes.io/part-of': 'lagstorm' },
  };
}
