/**
 * The Kubernetes side of the CLI without a cluster: `agents manifest` prints what a run applies
 * (parsed back with the yaml library), every bad input exits 3 naming its flag or field and the
 * fix, `run --engine kubernetes` exits 2 before anything starts when kubectl or its context is
 * missing, and `agent` takes any http(s) coordinator URL but refuses a malformed one.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { ConfigMap, EndpointSlice, Job, KubernetesObject, Service } from '../agents/engines/kubernetes-manifests';
import { fakeKubectl } from '../stack/testing/fake-kubectl';

const REPO = path.resolve(__dirname, '..');
const CLI = path.join(REPO, 'bin', 'lagstorm.js');
const CLUSTER = ['--coordinator-address', '10.0.0.5', '--target', 'ws://10.0.0.5:9000'];

function lagstorm(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let scenario: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-k8s-cli-'));
  scenario = path.join(dir, 'cluster-load.json');
  // A backend already running (target), no faults: what a run on the cluster plays.
  fs.writeFileSync(scenario, JSON.stringify({ name: 'cluster-load', game: 'reference', target: { url: 'ws://127.0.0.1:9000', adminUrl: 'http://127.0.0.1:9001' }, duration: '20s', bots: { players: { profile: 'casual', count: 30 } } }));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function parseObjects(text: string): KubernetesObject[] {
  const documents = YAML.parseAllDocuments(text, { version: '1.1' });
  for (const document of documents) expect(document.errors).toEqual([]);
  return documents.map((document) => document.toJS() as KubernetesObject);
}

test('agents manifest prints the ConfigMap, Service, EndpointSlice and Indexed Job of a run, consistent with each other', async () => {
  const result = await lagstorm(['agents', 'manifest', scenario, '--agents', '3', '--seed', '9', '--namespace', 'load', ...CLUSTER]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const objects = parseObjects(result.stdout);
  expect(objects.map((object) => object.kind)).toEqual(['ConfigMap', 'Service', 'EndpointSlice', 'Job']);
  const [configMap, service, slice, job] = objects as [ConfigMap, Service, EndpointSlice, Job];
  expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimit: 0 });
  const container = job.spec.template.spec.containers[0];
  expect(container.image).toBe('lagstorm/agent:latest');
  const runId = /run id (\S+)/.exec(result.stdout)![1];
  const coordinator = new URL(container.args[container.args.indexOf('--coordinator') + 1]);
  expect(container.args).toEqual(['agent', '/etc/lagstorm/agent-scenario.json', '--coordinator', coordinator.href.replace(/\/$/, ''), '--run-id', runId, '--agents', '3', '--target', 'ws://10.0.0.5:9000']);
  expect(coordinator.host).toBe(`${service.metadata.name}.load.svc:7380`);
  expect(slice.endpoints[0].addresses).toEqual(['10.0.0.5']);
  expect(slice.ports[0].port).toBe(service.spec.ports[0].port);
  const shipped = JSON.parse(configMap.data['agent-scenario.json']) as { name: string; seed: number; target: unknown };
  expect(shipped).toMatchObject({ name: 'cluster-load', seed: 9, target: { url: 'ws://127.0.0.1:9000' } });
  expect(container.resources.requests).toEqual({ cpu: '1', memory: '257Mi' }); // 10 bots per agent

  const file = path.join(dir, 'agents.yaml');
  const written = await lagstorm(['agents', 'manifest', scenario, '--agents', '3', '--seed', '9', '--out', file, ...CLUSTER]);
  expect(written.code).toBe(0);
  expect(written.stdout).toMatch(/^wrote .*agents\.yaml: ConfigMap lagstorm-agents-\S+-scenario, Service lagstorm-coordinator-\S+, EndpointSlice \S+, Job lagstorm-agents-\S+\n$/);
  expect(parseObjects(fs.readFileSync(file, 'utf8')).map((object) => object.kind)).toEqual(['ConfigMap', 'Service', 'EndpointSlice', 'Job']);
}, 60_000);

test.each([
  ['no agents', ['--agents', '0', ...CLUSTER], /^ {2}--agents must be between 1 and 64, not 0$/m],
  ['no coordinator address', ['--agents', '2', '--target', 'ws://10.0.0.5:9000'], /^ {2}--coordinator-address is missing: .*e\.g\. --coordinator-address 10\.0\.0\.5/m],
  ['a loopback target', ['--agents', '2', '--coordinator-address', '10.0.0.5', '--target', 'ws://127.0.0.1:9000'], /^ {2}--target: "ws:\/\/127\.0\.0\.1:9000" is loopback/m],
])('agents manifest with %s exits 3 naming the flag and the fix', async (_label, args, message) => {
  const result = await lagstorm(['agents', 'manifest', scenario, ...args]);
  expect(result.code).toBe(3);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/cannot run on Kubernetes:/);
  expect(result.stderr).toMatch(message);
}, 60_000);

test('a scenario with a game given by path, faults and no target is refused for the cluster, each reason with its fix', async () => {
  const counter = path.join('test', 'fixtures', 'counter-game', 'agents.scenario.ts');
  const result = await lagstorm(['agents', 'manifest', counter, '--agents', '2', ...CLUSTER]);
  expect(result.code).toBe(3);
  expect(result.stderr).toMatch(/^ {2}game: \S+counter-game is a folder on this machine.*FROM lagstorm\/agent:latest.*--game-in-image$/m);
  expect(result.stderr).toMatch(/^ {2}target: --engine kubernetes plays a backend that is already running/m);
  expect(result.stderr).toMatch(/^ {2}faults: the agents on Kubernetes connect to --target directly/m);
}, 60_000);

test('run --engine kubernetes exits 2 before anything starts without kubectl, and without a current context', async () => {
  const runs = path.join(dir, 'runs');
  const args = ['run', scenario, '--out', runs, '--agents', '2', '--engine', 'kubernetes', '--coordinator-address', '10.0.0.5', '--agents-target', 'ws://10.0.0.5:9000'];
  const missing = await lagstorm(args, { ...process.env, PATH: path.join(dir, 'nothing-here') });
  expect(missing.stderr).toMatch(/kubectl not found on PATH; install kubectl/);
  expect(missing.code).toBe(2);
  fs.mkdirSync(path.join(dir, 'bin'));
  const fake = fakeKubectl(path.join(dir, 'bin')); // no current context
  const noContext = await lagstorm(args, { ...process.env, PATH: fake.path });
  expect(noContext.stderr).toMatch(/kubectl has no current context .*kubectl config use-context <name>/);
  expect(noContext.code).toBe(2);
  expect(fake.calls()).toEqual(['config current-context']);
  expect(fs.existsSync(runs)).toBe(false);
}, 60_000);

test('run refuses agent flags an engine does not read, and any of them without --agents', async () => {
  const local = await lagstorm(['run', scenario, '--agents', '2', '--engine', 'local', '--namespace', 'load']);
  expect(local.code).toBe(3);
  expect(local.stderr).toMatch(/^ {2}--namespace does not apply to --engine local; drop it$/m);
  const alone = await lagstorm(['run', scenario, '--coordinator-address', '10.0.0.5']);
  expect(alone.code).toBe(3);
  expect(alone.stderr).toMatch(/--coordinator-address only applies with --agents <n>; add one/);
}, 60_000);

test('agent refuses a malformed coordinator URL, naming the flag', async () => {
  const result = await lagstorm(['agent', scenario, '--coordinator', 'ftp://10.0.0.5:7380', '--run-id', 'r', '--agents', '1', '--index', '0', '--target', 'ws://10.0.0.5:9000']);
  expect(result.code).toBe(3);
  expect(result.stderr).toMatch(/--coordinator: "ftp:\/\/10\.0\.0\.5:7380" must start with http:\/\/ or https:\/\//);
  const pathy = await lagstorm(['agent', scenario, '--coordinator', 'http://lagstorm-coordinator-r.load.svc:7380/agents', '--run-id', 'r', '--agents', '1', '--index', '0', '--target', 'ws://10.0.0.5:9000']);
  expect(pathy.code).toBe(3);
  expect(pathy.stderr).toMatch(/must be the coordinator's root, with no path/);
}, 60_000);
