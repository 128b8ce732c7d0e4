/**
 * The Kubernetes objects of a run's agents, rendered from the one container spec (agents/agent-spec.ts):
 * a ConfigMap with the resolved scenario, an Indexed Job of N pods that are never retried (a lost
 * agent is a harness error for the coordinator, not something to hide), and a selector-less Service
 * with an EndpointSlice that lead the pods to the coordinator on the machine running `lagstorm run`.
 * `lagstorm agents manifest` prints exactly what `--engine kubernetes` applies.
 */
import net from 'node:net';
import YAML from 'yaml';
import { InvalidInputError } from '../../core/exit-codes';
import { dnsName, DEFAULT_AGENT_IMAGE, type AgentContainerSpec } from '../agent-spec';
import type { AgentEngineSettings } from '../engine';

export const DEFAULT_NAMESPACE = 'default';
/** A fixed default, so a firewall between the cluster and this machine can let exactly it through. */
export const DEFAULT_KUBERNETES_COORDINATOR_PORT = 7380;
export const DEFAULT_AGENT_CPU = '1';
/** A Node process with tsx and the fleet's worker threads, before any bot. */
export const AGENT_BASE_MEMORY_MIB = 256;
/** Measured RSS per active bot (README "Benchmarks", bots: 26.6 KB connected, ~40 KB acting). */
export const AGENT_MEMORY_PER_BOT_KB = 40;
/** Finished Jobs (and their pods' logs) stay this long when teardown never ran (a SIGKILLed run). */
export const JOB_TTL_SECONDS = 3600;
/** The pod annotation (and, from Kubernetes 1.28, label) holding an Indexed Job pod's index. */
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
const CONTAINER_NAME = 'agent';
const SCENARIO_VOLUME = 'scenario';

/** Every setting of the Kubernetes engine, resolved. */
export interface KubernetesAgentSettings {
  image: string;
  namespace: string;
  /** This machine's IP as the pods reach it (the EndpointSlice's address). */
  coordinatorAddress: string;
  coordinatorPort: number;
  /** Where the coordinator's server listens on this machine. */
  coordinatorListen: string;
  /** ws:// URL of the backend as the pods reach it. */
  target: string;
  cpu: string;
  /** A fixed memory request; undefined: sized from the bots per agent. */
  memory?: string;
  /** The image holds the scenario's game at its path on this machine (built FROM lagstorm/agent). */
  gameInImage: boolean;
}

/** Flag names differ between `run` (`--agents-target`) and `agents manifest` (`--target`). */
export interface SettingFlags {
  target: string;
}

const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/;
const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The settings with their defaults, and every problem with them (each names its flag and the fix). */
export function resolveKubernetesSettings(settings: AgentEngineSettings, flags: SettingFlags = { target: '--agents-target' }): { resolved: KubernetesAgentSettings; problems: string[] } {
  const problems: string[] = [];
  const address = settings.coordinatorAddress;
  if (address === undefined) problems.push('--coordinator-address is missing: the pods reach the coordinator at this machine\'s IP; pass it, e.g. --coordinator-address 10.0.0.5 (`hostname -I` lists this machine\'s addresses)');
  else {
    const problem = endpointAddressProblem(address);
    if (problem) problems.push(`--coordinator-address: "${address}" ${problem}; pass this machine's IP as the pods reach it, e.g. --coordinator-address 10.0.0.5`);
  }
  const listen = settings.coordinatorListen ?? address ?? '0.0.0.0';
  if (settings.coordinatorListen !== undefined && isLoopback(listen)) problems.push(`--coordinator-listen: ${listen} is loopback, which the pods cannot reach; drop it (the default is --coordinator-address) or pass 0.0.0.0`);
  const port = settings.coordinatorPort ?? DEFAULT_KUBERNETES_COORDINATOR_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`--coordinator-port: ${port} is not a port the pods can connect to; pass 1..65535 (default ${DEFAULT_KUBERNETES_COORDINATOR_PORT})`);
  const target = settings.target;
  if (target === undefined) problems.push(`${flags.target} is missing: the agents' bots run in the cluster and cannot reach this machine's loopback proxy; pass the backend's ws:// URL as the pods reach it, e.g. ${flags.target} ws://game.games.svc:8080`);
  else {
    const problem = targetProblem(target);
    if (problem) problems.push(`${flags.target}: "${target}" ${problem}`);
  }
  const namespace = settings.namespace ?? DEFAULT_NAMESPACE;
  if (!DNS_LABEL.test(namespace)) problems.push(`--namespace: "${namespace}" is not a Kubernetes namespace name (lowercase letters, digits and '-', at most 63); e.g. --namespace load-tests`);
  const image = settings.image ?? DEFAULT_AGENT_IMAGE;
  if (image.trim() === '' || /\s/.test(image)) problems.push(`--image: "${image}" is not an image reference; e.g. --image registry.example.com/lagstorm/agent:latest`);
  const cpu = settings.cpu ?? DEFAULT_AGENT_CPU;
  if (!QUANTITY.test(cpu)) problems.push(`--agent-cpu: "${cpu}" is not a Kubernetes quantity; e.g. --agent-cpu 1 or --agent-cpu 500m`);
  if (settings.memory !== undefined && !QUANTITY.test(settings.memory)) problems.push(`--agent-memory: "${settings.memory}" is not a Kubernetes quantity; e.g. --agent-memory 512Mi`);
  return {
    resolved: { image, namespace, coordinatorAddress: address ?? '', coordinatorPort: port, coordinatorListen: listen, target: target ?? '', cpu, memory: settings.memory, gameInImage: settings.gameInImage ?? false },
    problems,
  };
}

/** A game given by path is a folder on this machine: pods cannot mount it, so it must be in the image. */
export function hostPathProblems(hostPaths: readonly string[], settings: Pick<KubernetesAgentSettings, 'gameInImage'>): string[] {
  if (settings.gameInImage) return [];
  return hostPaths.map(
    (dir) =>
      `game: ${dir} is a folder on this machine, which pods on the cluster cannot read; bake it into an agent image at the same path (a Dockerfile with \`FROM ${DEFAULT_AGENT_IMAGE}\` and \`COPY . ${dir}\` run in that folder, its node_modules included), push that image and pass --image <your image> --game-in-image`,
  );
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** What Kubernetes refuses as an EndpointSlice address: no IP, unspecified, loopback, link-local, multicast. */
function endpointAddressProblem(address: string): string | undefined {
  if (net.isIPv4(address)) {
    const [a, b] = address.split('.').map(Number);
    if (a === 0) return 'is unspecified';
    if (a === 127) return 'is loopback, which inside a pod is the pod itself';
    if (a === 169 && b === 254) return 'is link-local, which Kubernetes refuses as an endpoint';
    if (a >= 224) return 'is multicast or reserved';
    return undefined;
  }
  if (net.isIPv6(address)) {
    const lower = address.toLowerCase();
    if (lower === '::') return 'is unspecified';
    if (lower === '::1') return 'is loopback, which inside a pod is the pod itself';
    if (/^fe[89ab]/.test(lower)) return 'is link-local, which Kubernetes refuses as an endpoint';
    if (lower.startsWith('ff')) return 'is multicast';
    return undefined;
  }
  return 'is not an IP address (an EndpointSlice holds addresses, not names)';
}

function targetProblem(target: string): string | undefined {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return 'is not a URL; write e.g. ws://game.games.svc:8080';
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return `must start with ws:// or wss://, not ${url.protocol}//`;
  if (isLoopback(url.hostname.replace(/^\[|\]$/g, ''))) return 'is loopback, which inside a pod is the pod itself; pass the backend\'s address as the pods reach it';
  return undefined;
}

/** The coordinator's Service: the agents' --coordinator host. */
export function coordinatorServiceName(runId: string): string {
  return dnsName('lagstorm-coordinator', runId);
}

/** The URL the agents reach the coordinator at: the Service's cluster DNS name. */
export function coordinatorServiceUrl(runId: string, namespace: string, port: number): string {
  return `http://${coordinatorServiceName(runId)}.${namespace}.svc:${port}`;
}

/** The memory request of an agent playing `bots` bots. */
export function agentMemoryRequest(bots: number): string {
  return `${AGENT_BASE_MEMORY_MIB + Math.ceil((Math.max(0, bots) * AGENT_MEMORY_PER_BOT_KB) / 1024)}Mi`;
}

// ---- the objects (the fields lagstorm sets; kubectl and the API server fill the rest) ----

interface ObjectMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
}

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data: Record<string, string>;
}

export interface AgentContainer {
  name: string;
  image: string;
  imagePullPolicy: 'IfNotPresent';
  args: string[];
  env: Array<{ name: string; value: string }>;
  resources: { requests: { cpu: string; memory: string } };
  volumeMounts: Array<{ name: string; mountPath: string; subPath: string; readOnly: true }>;
}

export interface Job {
  apiVersion: 'batch/v1';
  kind: 'Job';
  metadata: ObjectMeta;
  spec: {
    completionMode: 'Indexed';
    completions: number;
    parallelism: number;
    backoffLimit: 0;
    podFailurePolicy: { rules: Array<{ action: 'FailJob'; onExitCodes: { containerName: string; operator: 'NotIn'; values: number[] } }> };
    ttlSecondsAfterFinished: number;
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        restartPolicy: 'Never';
        automountServiceAccountToken: false;
        enableServiceLinks: false;
        containers: AgentContainer[];
        volumes: Array<{ name: string; configMap: { name: string } }>;
      };
    };
  };
}

export interface Service {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta;
  spec: { ports: Array<{ name: string; protocol: 'TCP'; port: number; targetPort: number }> };
}

export interface EndpointSlice {
  apiVersion: 'discovery.k8s.io/v1';
  kind: 'EndpointSlice';
  metadata: ObjectMeta;
  addressType: 'IPv4' | 'IPv6';
  endpoints: Array<{ addresses: string[]; conditions: { ready: true } }>;
  ports: Array<{ name: string; protocol: 'TCP'; port: number }>;
}

export type KubernetesObject = ConfigMap | Job | Service | EndpointSlice;

export interface AgentManifestOptions {
  settings: KubernetesAgentSettings;
  /** The resolved scenario's exact text (the run's agent-scenario.json). */
  scenarioJson: string;
  /** The most bots one agent plays, to size the memory request (unless settings.memory is given). */
  botsPerAgent: number;
}

/** A label value Kubernetes accepts: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
function labelValue(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** The ConfigMap, the Job, the Service and its EndpointSlice, in the order they are applied. Throws InvalidInputError for host paths. */
export function agentManifests(spec: AgentContainerSpec, options: AgentManifestOptions): KubernetesObject[] {
  const { settings } = options;
  const problems = hostPathProblems(spec.hostPaths, settings);
  if (problems.length) throw new InvalidInputError(`--engine kubernetes cannot run this scenario's agents:\n  ${problems.join('\n  ')}`);
  const labels = Object.fromEntries(Object.entries(spec.labels).map(([key, value]) => [key, labelValue(value)]));
  const meta = (name: string, extra: Record<string, string> = {}): ObjectMeta => ({ name, namespace: settings.namespace, labels: { ...labels, ...extra } });
  const configMapName = `${spec.name}-scenario`;
  const scenarioKey = spec.scenario.containerPath.slice(spec.scenario.containerPath.lastIndexOf('/') + 1);
  const service = coordinatorServiceName(spec.runId);
  const port = settings.coordinatorPort;

  const configMap: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(configMapName), data: { [scenarioKey]: options.scenarioJson } };
  const job: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(spec.name),
    spec: {
      completionMode: 'Indexed',
      completions: spec.count,
      parallelism: spec.count,
      // Never retried: a failed agent's bots are gone from the history, so the coordinator must see it fail.
      backoffLimit: 0,
      podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: CONTAINER_NAME, operator: 'NotIn', values: [0] } }] },
      ttlSecondsAfterFinished: JOB_TTL_SECONDS,
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          containers: [
            {
              name: CONTAINER_NAME,
              image: spec.image,
              imagePullPolicy: 'IfNotPresent',
              args: [...spec.args],
              env: Object.entries(spec.env).map(([name, value]) => ({ name, value })),
              resources: { requests: { cpu: settings.cpu, memory: settings.memory ?? agentMemoryRequest(options.botsPerAgent) } },
              volumeMounts: [{ name: SCENARIO_VOLUME, mountPath: spec.scenario.containerPath, subPath: scenarioKey, readOnly: true }],
            },
          ],
          volumes: [{ name: SCENARIO_VOLUME, configMap: { name: configMapName } }],
        },
      },
    },
  };
  const serviceObject: Service = { apiVersion: 'v1', kind: 'Service', metadata: meta(service), spec: { ports: [{ name: 'http', protocol: 'TCP', port, targetPort: port }] } };
  const endpointSlice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    // The service-name label ties the slice to the selector-less Service; managed-by keeps the endpoint controller off it.
    metadata: meta(`${service}-1`, { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'lagstorm' }),
    addressType: net.isIPv6(settings.coordinatorAddress) ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [settings.coordinatorAddress], conditions: { ready: true } }],
    ports: [{ name: 'http', protocol: 'TCP', port }],
  };
  return [configMap, serviceObject, endpointSlice, job];
}

/** Multi-document YAML in YAML 1.1 quoting (kubectl's), so a value such as "on" or "0755" stays a string. */
export function manifestsYaml(objects: readonly KubernetesObject[]): string {
  return objects.map((object) => YAML.stringify(object, { version: '1.1', lineWidth: 0 })).join('---\n');
}
