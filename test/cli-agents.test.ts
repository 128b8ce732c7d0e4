/**
 * `run --agents N --engine local` through the real CLI and a real stack (the counter test game's
 * server, PostgreSQL, Toxiproxy, Prometheus): four agent processes play exactly the bots and the
 * per-bot action sequences of the single-process run with the same seed, into one merged history
 * and the same verdict; an agent killed mid-run (SIGKILL, by pid) ends the run with exit 2 naming it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { isClientOp, type HistoryEntry } from '../core/history';
import { readHistoryAll } from '../core/history-file';
import type { RunSummary } from '../core/summary';
import { runCli } from './run-cli';

const AGENTS_SCENARIO = path.join('test', 'fixtures', 'counter-game', 'agents.scenario.ts');
const COUNTER_SCENARIO = path.join('test', 'fixtures', 'counter-game', 'counter.scenario.ts');

let out: string;
beforeEach(() => (out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-agents-'))));
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

type Run = Awaited<ReturnType<typeof run>>;
/** The single-process run both engines are compared with (run once, by the first engine's test). */
let single: Run | undefined;

/** Per bot: each action (by seq) with its name and params, in seq order; resends of a seq count once. */
function actionSequences(history: HistoryEntry[]): Map<string, string[]> {
  const byBot = new Map<string, Map<number, string>>();
  for (const entry of history) {
    if (!isClientOp(entry) || entry.type !== 'invoke' || entry.seq === undefined) continue;
    const actions = byBot.get(entry.process) ?? new Map<number, string>();
    if (!actions.has(entry.seq)) actions.set(entry.seq, `#${entry.seq} ${entry.f} ${JSON.stringify(entry.value)}`);
    byBot.set(entry.process, actions);
  }
  return new Map([...byBot].sort(([a], [b]) => a.localeCompare(b)).map(([bot, actions]) => [bot, [...actions].sort(([a], [b]) => a - b).map(([, line]) => line)]));
}

async function run(args: string[], outDir: string): Promise<{ code: number | null; summary: RunSummary; history: HistoryEntry[]; runDir: string; stderr: string }> {
  fs.mkdirSync(outDir, { recursive: true });
  const result = await runCli(['run', ...args, '--out', outDir, '--reporters', 'json'], { timeoutMs: 150_000 });
  const runDir = fs.realpathSync(path.join(outDir, 'latest'));
  const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  return { code: result.code, summary, history: await readHistoryAll(runDir), runDir, stderr: result.stderr };
}

const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8' }).trim();

/** What a swarm run could leave behind: its services, configs, task containers, and the swarm it made (this machine has none of its own). */
async function swarmLeftovers(): Promise<{ services: string; configs: string; containers: string; swarm: string }> {
  const swarm = docker('info', '--format', '{{.Swarm.LocalNodeState}}');
  return {
    services: swarm === 'active' ? docker('service', 'ls', '--quiet', '--filter', 'label=lagstorm.run-id') : '',
    configs: swarm === 'active' ? docker('config', 'ls', '--quiet', '--filter', 'label=lagstorm.run-id') : '',
    containers: docker('ps', '--all', '--quiet', '--filter', 'label=com.docker.swarm.service.name'),
    swarm,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test.each(['local', 'swarm'])('four agents on the %s engine play the same bots, the same per-bot action sequences and get the same verdict as one process', async (engine) => {
  single ??= await run([AGENTS_SCENARIO, '--seed', '11'], path.join(out, 'single'));
  const agents = await run([AGENTS_SCENARIO, '--seed', '11', '--agents', '4', '--engine', engine], path.join(out, 'agents'));

  expect({ code: single.code, verdict: single.summary.verdict, errors: single.summary.errors }).toEqual({ code: 0, verdict: 'pass', errors: [] });
  expect({ code: agents.code, verdict: agents.summary.verdict, errors: agents.summary.errors }).toEqual({ code: single.code, verdict: single.summary.verdict, errors: [] });
  expect(agents.summary.checks.map((check) => [check.name, check.valid])).toEqual(single.summary.checks.map((check) => [check.name, check.valid]));

  const whole = actionSequences(single.history);
  const merged = actionSequences(agents.history);
  expect(whole.size).toBe(8);
  expect([...whole.values()].every((actions) => actions.length === 12)).toBe(true); // complete sequences, nothing cut short
  expect(merged).toEqual(whole);

  // Each agent played its own quarter of the bots; all four reported a clock offset with its bound.
  const shards = agents.summary.agents!;
  expect(shards.map((agent) => [agent.index, agent.segment, agent.state, agent.bots])).toEqual([
    [0, '0:1/4', 'done', 2],
    [1, '1/4:1/2', 'done', 2],
    [2, '1/2:3/4', 'done', 2],
    [3, '3/4:1', 'done', 2],
  ]);
  if (engine === 'swarm') {
    expect(shards.map((agent) => agent.where)).toEqual(shards.map(() => expect.stringMatching(/^task \w{12}, container \w{12}$/)));
    expect(await swarmLeftovers()).toEqual({ services: '', configs: '', containers: '', swarm: 'inactive' });
  }
  for (const agent of shards) {
    // On one machine (a local process or a container: the same kernel boot id) the exact offset is known: the estimate lies within its bound of it.
    expect(Math.abs(agent.clockOffsetMs! - agent.sameMachineOffsetMs!)).toBeLessThanOrEqual(agent.clockErrorMs!);
    expect(agent.ended).toBe('exited with code 0');
  }
  // One merged history: indexes dense, time order kept, the faults in it once.
  expect(agents.history.map((entry) => entry.index)).toEqual(agents.history.map((_, i) => i));
  expect(agents.history.every((entry, i) => i === 0 || entry.time >= agents.history[i - 1].time)).toBe(true);
  expect(agents.history.filter((entry) => entry.process === 'nemesis').map((entry) => entry.f)).toEqual(['fault-start', 'fault-stop']);
  expect(shards.reduce((sum, agent) => sum + agent.entries, 0)).toBe(agents.history.filter((entry) => entry.process !== 'nemesis').length);
}, 300_000);

test('an agent killed mid-run ends the run with exit 2 naming it, and everything the run started is gone', async () => {
  const outDir = path.join(out, 'killed');
  fs.mkdirSync(outDir, { recursive: true });
  let victim: number | undefined;
  let survivor: number | undefined;
  let agentsInState: unknown[] = [];
  const running = runCli(['run', COUNTER_SCENARIO, '--seed', '5', '--agents', '2', '--out', outDir, '--reporters', 'json'], { timeoutMs: 150_000 });
  // Kill agent 1 once its bots have played a few seconds.
  for (let i = 0; i < 600 && victim === undefined; i++) {
    await sleep(100);
    const runDir = fs.readdirSync(outDir).find((name) => name !== 'latest');
    const logs = runDir ? path.join(outDir, runDir, 'logs') : undefined;
    const read = (file: string): string => (logs && fs.existsSync(path.join(logs, file)) ? fs.readFileSync(path.join(logs, file), 'utf8') : '');
    const log1 = read('agent-1.log');
    if (!/bots: \d+ bots on/.test(log1)) continue;
    await sleep(3000);
    victim = Number(/: pid (\d+),/.exec(log1)![1]);
    survivor = Number(/: pid (\d+),/.exec(read('agent-0.log'))![1]);
    // While they run, the state file lists both agents, so `lagstorm cleanup` would find them after a SIGKILL of the run.
    const state = JSON.parse(fs.readFileSync(path.join(outDir, runDir!, 'state.json'), 'utf8')) as { items: Array<{ item: { kind: string; name?: string; pid?: number } }> };
    agentsInState = state.items.filter(({ item }) => item.name?.startsWith('agent-')).map(({ item }) => [item.kind, item.name, item.pid]);
    process.kill(victim, 'SIGKILL');
  }
  expect(victim).toBeDefined();
  expect(agentsInState).toEqual([
    ['process', 'agent-0', survivor],
    ['process', 'agent-1', victim],
  ]);
  const result = await running;
  const runDir = fs.realpathSync(path.join(outDir, 'latest'));
  const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  expect({ code: result.code, verdict: summary.verdict }).toEqual({ code: 2, verdict: 'error' });
  expect(summary.errors[0]).toBe(
    `agent 1 (pid ${victim}, segment 1/2:1) was lost: killed by SIGKILL before sending its summary; its bots' history is incomplete, so the run cannot be judged (see logs/agent-1.log)`,
  );
  expect(summary.agents!.map((agent) => [agent.index, agent.state])).toEqual([
    [0, 'done'],
    [1, 'lost'],
  ]);
  // The surviving agent was told to stop and ended; the stack is gone.
  expect(isAlive(victim!)).toBe(false);
  expect(isAlive(survivor!)).toBe(false);
  const state = JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8')) as { items: unknown[] };
  expect(state.items).toEqual([]);
}, 200_000);

test('a swarm agent killed mid-run (docker kill) ends the run with exit 2 naming its task, and the service, its config and the swarm are gone', async () => {
  const outDir = path.join(out, 'swarm-killed');
  fs.mkdirSync(outDir, { recursive: true });
  let victim: string | undefined;
  const running = runCli(['run', COUNTER_SCENARIO, '--seed', '5', '--agents', '2', '--engine', 'swarm', '--out', outDir, '--reporters', 'json'], { timeoutMs: 150_000 });
  // Slot 1's task container is named <service>.1.<task id>; kill it once its bots have played a few seconds.
  for (let i = 0; i < 600 && victim === undefined; i++) {
    await sleep(200);
    const container = docker('ps', '--filter', 'label=com.docker.swarm.service.name', '--format', '{{.ID}} {{.Names}}')
      .split('\n')
      .find((line) => /^\w+ lagstorm-agents-[\w-]+\.1\./.test(line))
      ?.split(' ')[0];
    if (!container || !/bots: \d+ bots on/.test(execFileSync('docker', ['logs', container], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))) continue;
    await sleep(3000);
    docker('kill', container);
    victim = container;
  }
  expect(victim).toBeDefined();
  const result = await running;
  const runDir = fs.realpathSync(path.join(outDir, 'latest'));
  const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  expect({ code: result.code, verdict: summary.verdict }).toEqual({ code: 2, verdict: 'error' });
  expect(summary.errors[0]).toMatch(new RegExp(`^agent 1 \\(task \\w{12}, container ${victim!.slice(0, 12)}, segment 1/2:1\\) was lost: exited with code 137 before sending its summary; its bots' history is incomplete`));
  expect(summary.agents!.map((agent) => [agent.index, agent.state])).toEqual([
    [0, 'done'],
    [1, 'lost'],
  ]);
  // The killed agent's output up to the kill was kept.
  expect(fs.readFileSync(path.join(runDir, 'logs', 'agent-1.log'), 'utf8')).toMatch(/bots: \d+ bots on/);
  expect(await swarmLeftovers()).toEqual({ services: '', configs: '', containers: '', swarm: 'inactive' });
  const state = JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8')) as { items: unknown[] };
  expect(state.items).toEqual([]);
}, 200_000);

test('an agent that hangs (SIGSTOP) is lost after 5 s without a batch: exit 2 naming it, and it is still ended', async () => {
  const outDir = path.join(out, 'hung');
  fs.mkdirSync(outDir, { recursive: true });
  let victim: number | undefined;
  const running = runCli(['run', COUNTER_SCENARIO, '--seed', '6', '--agents', '2', '--out', outDir, '--reporters', 'json'], { timeoutMs: 150_000 });
  for (let i = 0; i < 600 && victim === undefined; i++) {
    await sleep(100);
    const runDir = fs.readdirSync(outDir).find((name) => name !== 'latest');
    const log0 = runDir && fs.existsSync(path.join(outDir, runDir, 'logs', 'agent-0.log')) ? fs.readFileSync(path.join(outDir, runDir, 'logs', 'agent-0.log'), 'utf8') : '';
    if (!/bots: \d+ bots on/.test(log0)) continue;
    await sleep(2000);
    victim = Number(/: pid (\d+),/.exec(log0)![1]);
    process.kill(victim, 'SIGSTOP');
  }
  // Without a victim the run ended or stalled before its bots played: show why.
  if (victim === undefined) throw new Error(`agent 0 never started its bots; the run said:\n${await running.then((r) => `${r.code}\n${r.stdout.slice(-1500)}\n${r.stderr.slice(-1500)}`, String)}`);
  const result = await running;
  const summary = JSON.parse(fs.readFileSync(path.join(fs.realpathSync(path.join(outDir, 'latest')), 'summary.json'), 'utf8')) as RunSummary;
  expect({ code: result.code, verdict: summary.verdict }).toEqual({ code: 2, verdict: 'error' });
  expect(summary.errors[0]).toMatch(new RegExp(`^agent 0 \\(pid ${victim}, segment 0:1/2\\) was lost: no batch for \\d+\\.\\d s; its bots' history is incomplete`));
  expect(summary.agents!.map((agent) => [agent.index, agent.state, agent.index === 0 ? agent.ended : 'ok'])).toEqual([
    [0, 'lost', 'killed by SIGKILL'], // a stopped process ignores SIGTERM: the engine's SIGKILL ended it
    [1, 'done', 'ok'],
  ]);
  expect(isAlive(victim!)).toBe(false);
}, 200_000);

test('bad agent flags are refused before anything starts, naming the flag', async () => {
  const both = await runCli(['run', COUNTER_SCENARIO, '--out', out, '--agents', '2', '--segment', '0:1/2']);
  expect(both.code).toBe(3);
  expect(both.stderr).toMatch(/--segment and --agents exclude each other/);
  const engine = await runCli(['run', COUNTER_SCENARIO, '--out', out, '--agents', '2', '--engine', 'mesos']);
  expect(engine.code).toBe(3);
  expect(engine.stderr).toMatch(/--engine: unknown engine "mesos"; choose one of: local, swarm, kubernetes/);
  const alone = await runCli(['run', COUNTER_SCENARIO, '--out', out, '--engine', 'local']);
  expect(alone.code).toBe(3);
  expect(alone.stderr).toMatch(/--engine only applies with --agents/);
  const zero = await runCli(['run', COUNTER_SCENARIO, '--out', out, '--agents', '0']);
  expect(zero.code).toBe(3);
  expect(zero.stderr).toMatch(/--agents must be between 1 and 64, not 0/);
  expect(fs.readdirSync(out)).toEqual([]);
  // Any http(s) URL is taken (agents on a cluster reach a Service name); one without its scheme is not.
  const agent = await runCli(['agent', COUNTER_SCENARIO, '--coordinator', '127.0.0.1:9', '--run-id', 'x', '--agents', '2', '--index', '0', '--target', 'ws://127.0.0.1:9']);
  expect(agent.code).toBe(3);
  expect(agent.stderr).toMatch(/--coordinator: "127\.0\.0\.1:9" is not a URL; write e\.g\. http:\/\/127\.0\.0\.1:9100/);
}, 120_000);
