/**
 * The `kubernetes` engine: the run's agents as an Indexed Job on the cluster of kubectl's current
 * context (agents/engines/kubernetes-manifests.ts). Launch writes runs/<id>/kubernetes-agents.yaml,
 * records it as debris and applies it with the user's kubectl; a watcher polls the Job's pods every
 * second and reports each pod that ends (or can never start) as that agent's end; stop() saves the
 * pods' logs to logs/agent-<i>.log and deletes everything the manifest made.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError, InvalidInputError } from '../../core/exit-codes';
import type { DebrisItem } from '../../stack/debris';
import { contextArgs, currentKubectlContext, deleteManifest, kubectl } from '../../stack/kubectl';
import { agentContainerSpec, type AgentContainerSpec } from '../agent-spec';
import type { AgentEngine, AgentEngineSettings, AgentLaunch, AgentsPlan, LaunchedAgents } from '../engine';
import {
  agentManifests,
  COMPLETION_INDEX_ANNOTATION,
  coordinatorServiceUrl,
  hostPathProblems,
  manifestsYaml,
  resolveKubernetesSettings,
  type KubernetesAgentSettings,
  type KubernetesObject,
  type SettingFlags,
} from './kubernetes-manifests';

/** Image pulls on a first run can take minutes. */
const READY_TIMEOUT_MS = 300_000;
/** Waiting reasons after which a container will not start without someone changing something. */
const CANNOT_START = new Set(['ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

export interface KubernetesEngineOptions {
  /** How often the Job's pods are listed (ms). */
  pollMs?: number;
  /** The flag names in messages (`agents manifest` calls the agents' target `--target`). */
  flags?: SettingFlags;
}

/** The subset of a Pod (`kubectl get pods -o json`) the watcher reads. */
interface Pod {
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    containerStatuses?: Array<{
      state?: { waiting?: { reason?: string; message?: string }; terminated?: { exitCode: number; signal?: number; reason?: string } };
    }>;
  };
}

export function kubernetesEngine(settings: AgentEngineSettings, options: KubernetesEngineOptions = {}): AgentEngine {
  const { resolved, problems } = resolveKubernetesSettings(settings, options.flags);
  let context: string | undefined;
  const ensureContext = async (): Promise<string> => (context ??= await currentKubectlContext());
  return {
    name: 'kubernetes',
    sameMachine: false,
    settings: ['coordinatorListen', 'coordinatorPort', 'coordinatorAddress', 'target', 'image', 'namespace', 'cpu', 'memory', 'gameInImage'],
    readyTimeoutMs: READY_TIMEOUT_MS,
    coordinatorPlacement: (runId) => ({ host: resolved.coordinatorListen, port: resolved.coordinatorPort, urlForAgents: (port) => coordinatorServiceUrl(runId, resolved.namespace, port) }),
    inputProblems: (plan) => [...problems, ...planProblems(plan, options.flags ?? { target: '--agents-target' }), ...hostPathProblems(plan.gameDir ? [plan.gameDir] : [], resolved)],
    async checkReady() {
      const name = await ensureContext();
      const answer = await kubectl([...contextArgs(name), 'auth', 'can-i', 'create', 'jobs.batch', '-n', resolved.namespace], { timeoutMs: 30_000 });
      if (answer.stdout.trim() === 'yes') return;
      if (answer.stdout.trim() === 'no') throw new HarnessError(`kubectl context "${name}" may not create Jobs in namespace ${resolved.namespace}; ask for that right (Jobs, ConfigMaps, Services, EndpointSlices) or pass another --namespace`);
      throw new HarnessError(`kubectl context "${name}" does not answer (${answer.stderr.trim() || `exit ${answer.code}`}); check \`kubectl --context ${name} cluster-info\``);
    },
    async launch(launch) {
      if (problems.length) throw new InvalidInputError(`--engine kubernetes:\n  ${problems.join('\n  ')}`);
      return launchJob(launch, resolved, await ensureContext(), options.pollMs ?? 1000);
    },
  };
}

/** The launch's objects and their YAML: what the engine applies and `lagstorm agents manifest` prints. */
export function renderAgentManifest(launch: AgentLaunch, settings: KubernetesAgentSettings): { spec: AgentContainerSpec; objects: KubernetesObject[]; yaml: string } {
  const spec = agentContainerSpec(launch, settings.image);
  const objects = agentManifests(spec, { settings, scenarioJson: fs.readFileSync(launch.scenarioFile, 'utf8'), botsPerAgent: launch.botsPerAgent ?? 0 });
  return { spec, objects, yaml: manifestsYaml(objects) };
}

/** The agents play from the cluster, so the backend must be one that is already running, and this machine's fault proxy is not in their path. */
function planProblems(plan: AgentsPlan, flags: SettingFlags): string[] {
  const problems: string[] = [];
  if (!plan.hasTarget) problems.push(`target: --engine kubernetes plays a backend that is already running, not one lagstorm starts on this machine's loopback; give the scenario a target (url and adminUrl as this machine reaches it) and pass ${flags.target} with its ws:// URL as the pods reach it`);
  if (plan.faultSteps > 0) problems.push(`faults: the agents on Kubernetes connect to ${flags.target} directly, not through this machine's fault proxy, so no fault would touch their traffic; drop faults.timeline and faults.random for a load run on the cluster, or use --engine local for faults`);
  return problems;
}

async function launchJob(launch: AgentLaunch, settings: KubernetesAgentSettings, context: string, pollMs: number): Promise<LaunchedAgents> {
  const { spec, yaml } = renderAgentManifest(launch, settings);
  const manifestFile = path.join(launch.runDir ?? launch.logDir, 'kubernetes-agents.yaml');
  fs.mkdirSync(path.dirname(manifestFile), { recursive: true });
  fs.writeFileSync(manifestFile, yaml);
  const item: DebrisItem & { kind: 'kubernetes' } = { kind: 'kubernetes', context, namespace: settings.namespace, manifestFile };
  const debrisId = launch.debris?.record(item);
  const removeAll = async (): Promise<void> => {
    const { deleted } = await deleteManifest(item);
    if (debrisId !== undefined) launch.debris?.forget(debrisId);
    launch.log?.(`agents: kubectl deleted ${deleted.length} object(s) of ${manifestFile}`);
  };

  const applied = await kubectl([...contextArgs(context), 'apply', '-f', manifestFile]);
  if (applied.code !== 0) {
    // Part of the manifest may be on the cluster already; launch failed, so no stop() will come.
    await removeAll().catch((error: Error) => launch.log?.(`agents: ${error.message}`));
    throw new HarnessError(`kubectl --context ${context} apply -f ${manifestFile} failed: ${applied.stderr.trim() || applied.stdout.trim()}; fix that (\`lagstorm cleanup\` removes what is left), then run again`);
  }
  launch.log?.(`agents: applied ${manifestFile} (context ${context}, namespace ${settings.namespace}): job ${spec.name}, ${spec.count} pods`);

  const pods = new Map<number, Pod>();
  const endings = new Map<number, string>();
  const listeners: Array<(index: number, how: string) => void> = [];
  const ending = (index: number, how: string): void => {
    if (endings.has(index)) return;
    endings.set(index, how);
    launch.log?.(`agents: agent ${index} (${describe(index)}) ${how}`);
    for (const listener of listeners) listener(index, how);
  };
  const describe = (index: number): string => {
    const pod = pods.get(index);
    if (!pod) return `job ${settings.namespace}/${spec.name} index ${index}, no pod yet`;
    const unschedulable = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled' && condition.status === 'False');
    return `pod ${settings.namespace}/${pod.metadata.name}${unschedulable && !endings.has(index) ? ` (not scheduled: ${unschedulable.message ?? unschedulable.reason ?? 'no reason given'})` : ''}`;
  };

  let lastError = '';
  const poll = async (): Promise<void> => {
    const listed = await kubectl([...contextArgs(context), '-n', settings.namespace, 'get', 'pods', '-l', `job-name=${spec.name}`, '-o', 'json'], { timeoutMs: 20_000 }).catch((error: Error) => ({ code: -1, stdout: '', stderr: error.message }));
    let items: Pod[];
    try {
      if (listed.code !== 0) throw new Error(listed.stderr.trim() || `exit ${listed.code}`);
      items = (JSON.parse(listed.stdout) as { items?: Pod[] }).items ?? [];
    } catch (error) {
      // The coordinator notices agents that really went away; a failed listing is only logged (once per message).
      const message = (error as Error).message;
      if (message !== lastError) launch.log?.(`agents: kubectl get pods: ${message}`);
      lastError = message;
      return;
    }
    const seen = new Set<number>();
    for (const pod of items) {
      const index = completionIndex(pod);
      if (index === undefined || index >= spec.count) continue;
      seen.add(index);
      pods.set(index, pod);
      const how = podEnding(pod);
      if (how) ending(index, how);
    }
    for (const [index, pod] of pods) if (!seen.has(index)) ending(index, `pod ${pod.metadata.name} was deleted`);
  };

  const watching = new AbortController();
  const watcher = (async () => {
    while (!watching.signal.aborted) {
      await poll();
      await sleep(pollMs, undefined, { signal: watching.signal }).catch(() => undefined);
    }
  })();

  let stopping: Promise<void> | undefined;
  return {
    describe,
    onExit(listener) {
      listeners.push(listener);
      for (const [index, how] of endings) listener(index, how);
    },
    stop: () =>
      (stopping ??= (async () => {
        watching.abort();
        await watcher;
        await saveLogs(launch, context, settings.namespace, pods).catch((error: Error) => launch.log?.(`agents: the pods' logs were not saved: ${error.message}`));
        await removeAll();
      })()),
  };
}

/** The pod's index in its Indexed Job: the annotation Kubernetes sets on every such pod. */
function completionIndex(pod: Pod): number | undefined {
  const text = pod.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? pod.metadata.labels?.[COMPLETION_INDEX_ANNOTATION];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** How the pod's agent ended, or undefined while it may still run. */
export function podEnding(pod: Pod): string | undefined {
  const container = pod.status?.containerStatuses?.[0];
  const terminated = container?.state?.terminated;
  if (terminated) {
    const reason = terminated.reason && !['Completed', 'Error'].includes(terminated.reason) ? ` (${terminated.reason})` : '';
    return `exited with code ${terminated.exitCode}${reason}`;
  }
  const waiting = container?.state?.waiting;
  if (waiting?.reason && CANNOT_START.has(waiting.reason)) return `could not start: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
  if (pod.status?.phase === 'Succeeded') return 'exited with code 0';
  if (pod.status?.phase === 'Failed') return `failed: ${pod.status.reason ?? 'no reason given'}${pod.status.message ? `: ${pod.status.message}` : ''}`;
  return undefined;
}

/** Each pod's output into logs/agent-<i>.log before the pods are deleted (where the coordinator's messages point). */
async function saveLogs(launch: AgentLaunch, context: string, namespace: string, pods: Map<number, Pod>): Promise<void> {
  fs.mkdirSync(launch.logDir, { recursive: true });
  await Promise.all(
    [...pods].map(async ([index, pod]) => {
      const file = path.join(launch.logDir, `agent-${index}.log`);
      const result = await kubectl([...contextArgs(context), '-n', namespace, 'logs', pod.metadata.name], { timeoutMs: 30_000 }).catch((error: Error) => ({ code: -1, stdout: '', stderr: error.message }));
      fs.writeFileSync(file, result.code === 0 ? result.stdout : `${result.stdout}lagstorm: kubectl logs ${pod.metadata.name} failed: ${result.stderr.trim()}\n`);
    }),
  );
}
