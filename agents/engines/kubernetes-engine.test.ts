/**
 * The kubernetes engine against a fake `kubectl` first on PATH (stack/testing/fake-kubectl.ts; there
 * is no cluster here): it applies the manifest it wrote to the run's folder on the context it
 * checked, turns pods that end into the port's onExit with their exit codes, and stop() saves the
 * pods' logs and deletes everything once, however often it is called; its debris undoes the same.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { HarnessError } from '../../core/exit-codes';
import type { DebrisItem, DebrisRecorder } from '../../stack/debris';
import { fakeKubectl, jobPod, type FakeKubectl } from '../../stack/testing/fake-kubectl';
import { undoDebrisItem } from '../../stack/undo-debris';
import { SCENARIO_IN_CONTAINER } from '../agent-spec';
import type { AgentEngine, AgentLaunch, LaunchedAgents } from '../engine';
import { kubernetesEngine } from './kubernetes-engine';
import type { Job } from './kubernetes-manifests';

const SETTINGS = { coordinatorAddress: '10.0.0.5', target: 'ws://10.0.0.5:9000', namespace: 'load' };
const RUNNING = { phase: 'Running', containerStatuses: [{ state: { running: {} } }] };
const failed = (exitCode: number, reason: string) => ({ phase: 'Failed', containerStatuses: [{ state: { terminated: { exitCode, reason } } }] });

function memoryDebris(): DebrisRecorder {
  const items = new Map<string, DebrisItem>();
  let next = 1;
  return {
    record(item) {
      const id = String(next++);
      items.set(id, item);
      return id;
    },
    forget: (id) => void items.delete(id),
    list: () => [...items].map(([id, item]) => ({ id, item })),
  };
}

let dir: string;
let kubectl: FakeKubectl;
const originalPath = process.env.PATH;
/** Stopped after each test, also one whose assertions failed (its watcher would poll on). */
const started: LaunchedAgents[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-k8s-engine-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  kubectl = fakeKubectl(path.join(dir, 'bin'), { context: 'kind-lagstorm' });
  process.env.PATH = kubectl.path;
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((launched) => launched.stop().catch(() => undefined)));
  process.env.PATH = originalPath;
  fs.rmSync(dir, { recursive: true, force: true });
});

function launchOf(count: number, debris: DebrisRecorder): AgentLaunch {
  const scenarioFile = path.join(dir, 'agent-scenario.json');
  fs.writeFileSync(scenarioFile, JSON.stringify({ name: 'cluster-load', seed: 3 }, null, 2));
  const runId = '20261202T120000Z-cluster-load-3';
  const url = kubernetesEngine(SETTINGS).coordinatorPlacement!(runId).urlForAgents(7380);
  return { runId, count, scenarioFile, options: ['--coordinator', url, '--run-id', runId, '--agents', String(count), '--target', SETTINGS.target], env: {}, botsPerAgent: 5, logDir: path.join(dir, 'logs'), runDir: dir, debris };
}

async function launchTracked(engine: AgentEngine, launch: AgentLaunch): Promise<LaunchedAgents> {
  const launched = await engine.launch(launch);
  started.push(launched);
  return launched;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await sleep(25);
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

test('apply on the checked context, a failed pod becomes onExit with its exit code, stop deletes once and is safe to call again', async () => {
  const engine = kubernetesEngine(SETTINGS, { pollMs: 20 });
  await engine.checkReady!();
  const debris = memoryDebris();
  const launch = launchOf(2, debris);
  const job = 'lagstorm-agents-20261202t120000z-cluster-load-3';
  kubectl.setPods([jobPod(`${job}-0-abcde`, 0, RUNNING), jobPod(`${job}-1-fghij`, 1, RUNNING)]);
  const launched = await launchTracked(engine, launch);

  const manifestFile = path.join(dir, 'kubernetes-agents.yaml');
  expect(kubectl.calls()).toEqual(['config current-context', '--context kind-lagstorm auth can-i create jobs.batch -n load', `--context kind-lagstorm apply -f ${manifestFile}`]);
  const applied = YAML.parseAllDocuments(fs.readFileSync(manifestFile, 'utf8')).map((document) => document.toJS() as { kind: string });
  const appliedJob = applied.find((object) => object.kind === 'Job') as Job;
  expect(appliedJob.metadata.name).toBe(job);
  expect(appliedJob.spec.template.spec.containers[0].args).toEqual(['agent', SCENARIO_IN_CONTAINER, ...launch.options]);
  expect(debris.list().map(({ item }) => item)).toEqual([{ kind: 'kubernetes', context: 'kind-lagstorm', namespace: 'load', manifestFile }]);

  const ends: string[] = [];
  launched.onExit((index, how) => ends.push(`${index} ${how}`));
  await until(() => launched.describe(1).startsWith('pod '), 'the first poll to be read');
  expect(kubectl.calls()).toContain(`--context kind-lagstorm -n load get pods -l job-name=${job} -o json`);
  expect(launched.describe(1)).toBe(`pod load/${job}-1-fghij`);
  expect(ends).toEqual([]);

  kubectl.setPods([jobPod(`${job}-0-abcde`, 0, RUNNING), jobPod(`${job}-1-fghij`, 1, failed(137, 'OOMKilled'))]);
  await until(() => ends.length > 0, 'agent 1 to end');
  kubectl.setPods([jobPod(`${job}-0-abcde`, 0, { phase: 'Succeeded', containerStatuses: [{ state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }), jobPod(`${job}-1-fghij`, 1, failed(137, 'OOMKilled'))]);
  await until(() => ends.length > 1, 'agent 0 to end');
  expect(ends).toEqual(['1 exited with code 137 (OOMKilled)', '0 exited with code 0']); // each once, though listed on every poll

  await Promise.all([launched.stop(), launched.stop()]);
  await launched.stop();
  const calls = kubectl.calls();
  expect(calls.filter((call) => call.includes(' delete '))).toEqual([`--context kind-lagstorm delete -f ${manifestFile} --ignore-not-found --cascade=background --timeout=60s`]);
  expect(calls.filter((call) => call.includes(' logs ')).sort()).toEqual([`--context kind-lagstorm -n load logs ${job}-0-abcde`, `--context kind-lagstorm -n load logs ${job}-1-fghij`]);
  expect(fs.readFileSync(path.join(dir, 'logs', 'agent-1.log'), 'utf8')).toContain(`logs ${job}-1-fghij`);
  expect(debris.list()).toEqual([]);
  const polls = calls.filter((call) => call.includes('get pods')).length;
  await sleep(100);
  expect(kubectl.calls().filter((call) => call.includes('get pods')).length).toBe(polls); // the watcher stopped
});

test('a pod that can never start ends its agent at once, also for a listener that comes late; a deleted pod ends its agent', async () => {
  const engine = kubernetesEngine(SETTINGS, { pollMs: 20 });
  const job = 'lagstorm-agents-20261202t120000z-cluster-load-3';
  kubectl.setPods([
    jobPod(`${job}-0-aaaaa`, 0, { phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "lagstorm/agent:latest"' } } }] }),
    jobPod(`${job}-1-bbbbb`, 1, RUNNING),
  ]);
  const launched = await launchTracked(engine, launchOf(2, memoryDebris()));
  try {
    await until(() => kubectl.calls().filter((call) => call.includes('get pods')).length >= 2, 'two polls');
    kubectl.setPods([]); // pod 1 deleted by someone
    await until(() => kubectl.calls().filter((call) => call.includes('get pods')).length >= 4, 'two more polls');
    const ends: string[] = [];
    launched.onExit((index, how) => ends.push(`${index} ${how}`));
    expect(ends).toEqual(['0 could not start: ImagePullBackOff: Back-off pulling image "lagstorm/agent:latest"', `1 pod ${job}-1-bbbbb was deleted`]);
  } finally {
    await launched.stop();
  }
});

test('a pod not yet scheduled is described with the scheduler\'s reason', async () => {
  const engine = kubernetesEngine(SETTINGS, { pollMs: 20 });
  const job = 'lagstorm-agents-20261202t120000z-cluster-load-3';
  const launched = await launchTracked(engine, launchOf(1, memoryDebris()));
  try {
    expect(launched.describe(0)).toBe(`job load/${job} index 0, no pod yet`);
    kubectl.setPods([jobPod(`${job}-0-ccccc`, 0, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] })]);
    await until(() => launched.describe(0) !== `job load/${job} index 0, no pod yet`, 'the pod');
    expect(launched.describe(0)).toBe(`pod load/${job}-0-ccccc (not scheduled: 0/3 nodes are available: 3 Insufficient cpu.)`);
  } finally {
    await launched.stop();
  }
});

test('a failed apply is a harness error that deletes whatever got applied', async () => {
  kubectl.failApply('error: namespaces "load" not found');
  const debris = memoryDebris();
  const attempt = kubernetesEngine(SETTINGS).launch(launchOf(2, debris));
  await expect(attempt).rejects.toThrow(HarnessError);
  await expect(attempt).rejects.toThrow(/apply -f .*kubernetes-agents\.yaml failed: error: namespaces "load" not found/);
  expect(kubectl.calls().filter((call) => call.includes(' delete '))).toHaveLength(1);
  expect(debris.list()).toEqual([]);
});

test('no kubectl, or kubectl without a current context, fails the check naming the fix', async () => {
  fs.rmSync(path.join(kubectl.dir, 'context'));
  const noContext = kubernetesEngine(SETTINGS).checkReady!();
  await expect(noContext).rejects.toThrow(HarnessError);
  await expect(noContext).rejects.toThrow(/kubectl has no current context \(error: current-context is not set\); choose your cluster with `kubectl config use-context <name>`/);
  process.env.PATH = path.join(dir, 'logs-none'); // no kubectl anywhere on PATH
  await expect(kubernetesEngine(SETTINGS).checkReady!()).rejects.toThrow(/kubectl not found on PATH; install kubectl/);
});

test('its debris is undone by `kubectl delete -f` on the recorded context: undone, then absent; a lost manifest says what to delete by hand', async () => {
  const manifestFile = path.join(dir, 'kubernetes-agents.yaml');
  fs.writeFileSync(manifestFile, 'kind: Job\n');
  const item: DebrisItem = { kind: 'kubernetes', context: 'kind-lagstorm', namespace: 'load', manifestFile };
  expect(await undoDebrisItem(item)).toEqual({ outcome: 'undone', detail: '2 object(s) deleted' });
  expect(await undoDebrisItem(item)).toEqual({ outcome: 'absent', detail: 'no object of the manifest was left' });
  expect(kubectl.calls()).toEqual([
    `--context kind-lagstorm delete -f ${manifestFile} --ignore-not-found --cascade=background --timeout=60s`,
    `--context kind-lagstorm delete -f ${manifestFile} --ignore-not-found --cascade=background --timeout=60s`,
  ]);
  const lost = await undoDebrisItem({ ...item, manifestFile: path.join(dir, 'gone.yaml') });
  expect(lost.outcome).toBe('failed');
  expect(lost.detail).toMatch(/kubectl delete job,configmap,service,endpointslice -n load -l lagstorm\.run-id=/);
});
