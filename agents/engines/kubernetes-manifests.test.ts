/**
 * The Kubernetes objects of a run's agents, from the one container spec: an Indexed Job that is
 * never retried and runs exactly the spec's command line, the scenario's exact text in a
 * ConfigMap, and a Service + EndpointSlice that agree with the agents' --coordinator URL.
 */
import YAML from 'yaml';
import { InvalidInputError } from '../../core/exit-codes';
import { agentContainerSpec, SCENARIO_IN_CONTAINER, type AgentContainerSpec } from '../agent-spec';
import type { AgentEngineSettings, AgentLaunch } from '../engine';
import { kubernetesEngine } from './kubernetes-engine';
import { agentManifests, agentMemoryRequest, manifestsYaml, resolveKubernetesSettings, type ConfigMap, type EndpointSlice, type Job, type KubernetesObject, type Service } from './kubernetes-manifests';

const SCENARIO_JSON = JSON.stringify({ name: 'cluster-load', seed: 5, bots: { players: { profile: 'casual', count: 100 } } }, null, 2);
const SETTINGS = { coordinatorAddress: '10.0.0.5', target: 'ws://10.0.0.5:9000', namespace: 'load' };

function launchOf(runId: string, count: number, extra: Partial<AgentLaunch> = {}): AgentLaunch {
  const url = kubernetesEngine(SETTINGS).coordinatorPlacement!(runId).urlForAgents(7380);
  return { runId, count, scenarioFile: '/runs/x/agent-scenario.json', options: ['--coordinator', url, '--run-id', runId, '--agents', String(count), '--target', SETTINGS.target], env: { LAGSTORM_TRACE: 'on' }, logDir: '/runs/x/logs', ...extra };
}

function render(spec: AgentContainerSpec, settings: AgentEngineSettings = SETTINGS, botsPerAgent = 25): KubernetesObject[] {
  const { resolved, problems } = resolveKubernetesSettings(settings);
  expect(problems).toEqual([]);
  return agentManifests(spec, { settings: resolved, scenarioJson: SCENARIO_JSON, botsPerAgent });
}

function byKind<K extends KubernetesObject['kind']>(objects: KubernetesObject[], kind: K): Extract<KubernetesObject, { kind: K }> {
  const found = objects.filter((object) => object.kind === kind);
  expect(found).toHaveLength(1);
  return found[0] as Extract<KubernetesObject, { kind: K }>;
}

test('the Job is Indexed, N wide, never retried, and runs the spec\'s image, args and env with the scenario mounted where the args name it', () => {
  const spec = agentContainerSpec(launchOf('20261202T120000Z-cluster-load-5', 4), 'registry.example.com/lagstorm/agent:1');
  const job: Job = byKind(render(spec), 'Job');
  expect(job.metadata).toMatchObject({ name: spec.name, namespace: 'load' });
  expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 4, parallelism: 4, backoffLimit: 0, ttlSecondsAfterFinished: 3600 });
  expect(job.spec.podFailurePolicy.rules).toEqual([{ action: 'FailJob', onExitCodes: { containerName: 'agent', operator: 'NotIn', values: [0] } }]);
  const pod = job.spec.template.spec;
  expect(pod.restartPolicy).toBe('Never');
  expect(pod.containers).toHaveLength(1);
  const [container] = pod.containers;
  expect(container.image).toBe('registry.example.com/lagstorm/agent:1');
  expect(container.args).toEqual(spec.args);
  expect(container.args.slice(0, 2)).toEqual(['agent', SCENARIO_IN_CONTAINER]);
  expect(container.env).toEqual([{ name: 'LAGSTORM_TRACE', value: 'on' }]);
  expect(container.resources.requests).toEqual({ cpu: '1', memory: '257Mi' });
  expect(container.volumeMounts).toEqual([{ name: 'scenario', mountPath: SCENARIO_IN_CONTAINER, subPath: 'agent-scenario.json', readOnly: true }]);
  expect(job.spec.template.metadata.labels).toEqual(spec.labels);
  const configMap: ConfigMap = byKind(render(spec), 'ConfigMap');
  expect(pod.volumes).toEqual([{ name: 'scenario', configMap: { name: configMap.metadata.name } }]);
});

test('the ConfigMap holds the exact scenario text under the file name the Job mounts', () => {
  const configMap: ConfigMap = byKind(render(agentContainerSpec(launchOf('r-1', 2), 'img')), 'ConfigMap');
  expect(configMap.metadata.name).toBe('lagstorm-agents-r-1-scenario');
  expect(configMap.data).toEqual({ 'agent-scenario.json': SCENARIO_JSON });
});

test("the Service and its EndpointSlice lead the agents' --coordinator URL to --coordinator-address and the coordinator's port", () => {
  const spec = agentContainerSpec(launchOf('20261202T120000Z-cluster-load-5', 2), 'img');
  const objects = render(spec);
  const service: Service = byKind(objects, 'Service');
  const slice: EndpointSlice = byKind(objects, 'EndpointSlice');
  const url = new URL(spec.args[spec.args.indexOf('--coordinator') + 1]);
  expect(url.hostname).toBe(`${service.metadata.name}.load.svc`);
  expect(Number(url.port)).toBe(7380);
  expect(service.spec).toEqual({ ports: [{ name: 'http', protocol: 'TCP', port: 7380, targetPort: 7380 }] });
  expect('selector' in service.spec).toBe(false); // the EndpointSlice is its only endpoint
  expect(slice.metadata.labels['kubernetes.io/service-name']).toBe(service.metadata.name);
  expect(slice.metadata.labels['endpointslice.kubernetes.io/managed-by']).toBe('lagstorm');
  expect(slice).toMatchObject({ addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: true } }], ports: [{ name: 'http', protocol: 'TCP', port: 7380 }] });
  expect(objects.map((object) => object.kind)).toEqual(['ConfigMap', 'Service', 'EndpointSlice', 'Job']); // the route exists before the pods
});

test('an IPv6 coordinator address gets an IPv6 EndpointSlice; --coordinator-port moves the Service and the slice together', () => {
  const settings = { ...SETTINGS, coordinatorAddress: 'fd00::5', coordinatorPort: 9443 };
  const objects = render(agentContainerSpec(launchOf('r', 1), 'img'), settings);
  expect(byKind(objects, 'EndpointSlice')).toMatchObject({ addressType: 'IPv6', endpoints: [{ addresses: ['fd00::5'] }], ports: [{ port: 9443 }] });
  expect(byKind(objects, 'Service').spec.ports[0]).toMatchObject({ port: 9443, targetPort: 9443 });
  expect(kubernetesEngine(settings).coordinatorPlacement!('r')).toMatchObject({ host: 'fd00::5', port: 9443 });
});

test('memory is sized at 256 MiB plus 40 KB per bot of the largest agent, unless --agent-memory is given', () => {
  expect(agentMemoryRequest(0)).toBe('256Mi');
  expect(agentMemoryRequest(1000)).toBe('296Mi');
  expect(agentMemoryRequest(10_000)).toBe('647Mi');
  const spec = agentContainerSpec(launchOf('r', 1), 'img');
  expect(byKind(render(spec, SETTINGS, 1000), 'Job').spec.template.spec.containers[0].resources.requests).toEqual({ cpu: '1', memory: '296Mi' });
  expect(byKind(render(spec, { ...SETTINGS, cpu: '500m', memory: '1Gi' }, 1000), 'Job').spec.template.spec.containers[0].resources.requests).toEqual({ cpu: '500m', memory: '1Gi' });
});

test('a game given by path is refused, naming the folder and how to bake it into an image; --game-in-image accepts it', () => {
  const spec = agentContainerSpec(launchOf('r', 2, { gameDir: '/home/me/space-miners' }), 'img');
  expect(spec.hostPaths).toEqual(['/home/me/space-miners']);
  const { resolved } = resolveKubernetesSettings(SETTINGS);
  const attempt = (): unknown => agentManifests(spec, { settings: resolved, scenarioJson: SCENARIO_JSON, botsPerAgent: 1 });
  expect(attempt).toThrow(InvalidInputError);
  expect(attempt).toThrow(/game: \/home\/me\/space-miners is a folder on this machine.*FROM lagstorm\/agent:latest.*COPY \. \/home\/me\/space-miners.*--image <your image> --game-in-image/);
  const baked = agentManifests(spec, { settings: { ...resolved, gameInImage: true }, scenarioJson: SCENARIO_JSON, botsPerAgent: 1 });
  expect(JSON.stringify(baked)).not.toContain('/home/me/space-miners');
});

test('each bad setting names its flag and the fix', () => {
  const problems = (settings: Record<string, unknown>): string[] => resolveKubernetesSettings(settings).problems;
  expect(problems({ target: 'ws://10.0.0.5:9000' })).toEqual([expect.stringMatching(/^--coordinator-address is missing: .*e\.g\. --coordinator-address 10\.0\.0\.5/)]);
  expect(problems({ coordinatorAddress: '10.0.0.5' })).toEqual([expect.stringMatching(/^--agents-target is missing: .*e\.g\. --agents-target ws:\/\//)]);
  expect(resolveKubernetesSettings({ coordinatorAddress: '10.0.0.5' }, { target: '--target' }).problems).toEqual([expect.stringMatching(/^--target is missing/)]);
  expect(problems({ ...SETTINGS, coordinatorAddress: '127.0.0.1' })).toEqual([expect.stringMatching(/^--coordinator-address: "127\.0\.0\.1" is loopback/)]);
  expect(problems({ ...SETTINGS, coordinatorAddress: '169.254.1.1' })).toEqual([expect.stringMatching(/link-local/)]);
  expect(problems({ ...SETTINGS, coordinatorAddress: 'build-box.local' })).toEqual([expect.stringMatching(/^--coordinator-address: "build-box\.local" is not an IP address/)]);
  expect(problems({ ...SETTINGS, coordinatorListen: '127.0.0.1' })).toEqual([expect.stringMatching(/^--coordinator-listen: 127\.0\.0\.1 is loopback.*0\.0\.0\.0/)]);
  expect(problems({ ...SETTINGS, target: 'http://10.0.0.5:9000' })).toEqual([expect.stringMatching(/^--agents-target: .* must start with ws:\/\/ or wss:\/\//)]);
  expect(problems({ ...SETTINGS, target: 'ws://localhost:9000' })).toEqual([expect.stringMatching(/is loopback, which inside a pod is the pod itself/)]);
  expect(problems({ ...SETTINGS, namespace: 'Load_Tests' })).toEqual([expect.stringMatching(/^--namespace: "Load_Tests" is not a Kubernetes namespace name/)]);
  expect(problems({ ...SETTINGS, memory: 'plenty' })).toEqual([expect.stringMatching(/^--agent-memory: "plenty" is not a Kubernetes quantity; e\.g\. --agent-memory 512Mi/)]);
  expect(problems({ ...SETTINGS, coordinatorPort: 70000 })).toEqual([expect.stringMatching(/^--coordinator-port: 70000/)]);
  expect(problems(SETTINGS)).toEqual([]);
});

test('the engine refuses a scenario without target and one with faults, before anything starts', () => {
  const engine = kubernetesEngine(SETTINGS);
  expect(engine.inputProblems!({ count: 2, hasTarget: true, faultSteps: 0 })).toEqual([]);
  expect(engine.inputProblems!({ count: 2, hasTarget: false, faultSteps: 0 })).toEqual([expect.stringMatching(/^target: --engine kubernetes plays a backend that is already running/)]);
  expect(engine.inputProblems!({ count: 2, hasTarget: true, faultSteps: 1 })).toEqual([expect.stringMatching(/^faults: the agents on Kubernetes connect to --agents-target directly/)]);
});

test('YAML: one document per object that parses back to the same objects, with YAML 1.1 look-alikes kept as strings', () => {
  const spec = agentContainerSpec(launchOf('r', 3), 'img');
  const objects = render(spec);
  const text = manifestsYaml(objects);
  const documents = YAML.parseAllDocuments(text, { version: '1.1' });
  expect(documents.map((document) => document.errors)).toEqual([[], [], [], []]);
  expect(documents.map((document) => document.toJS())).toEqual(objects);
  expect(text).toContain('value: "on"'); // a YAML 1.1 reader (kubectl's) would read a bare on as true
  expect(text).toContain('- "3"');
});

test('label values stay within what Kubernetes accepts for a long scenario name', () => {
  const runId = `20261202T120000Z-${'a-very-long-scenario-name'.repeat(4)}-4294967295`;
  const spec = agentContainerSpec(launchOf(runId, 1), 'img');
  for (const object of render(spec)) {
    for (const value of Object.values(object.metadata.labels)) expect(value).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
  }
  expect(spec.name.length).toBeLessThanOrEqual(63);
});
