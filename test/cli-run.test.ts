/**
 * The main job end to end through the real CLI: the smoke scenario against the real stack ends in
 * a verdict and a run folder; the same seed on the containers runtime gives the same verdicts (the
 * process run is reused, not run twice); SIGINT midway tears everything down; invalid input starts nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import type { ClientOp } from '../core/history';
import { readHistoryAll } from '../core/history-file';
import { ensureImages } from '../stack/images/images';
import { configureTestcontainers, RUN_ID_LABEL } from '../stack/images/start-container';
import { isListening } from '../stack/ports';
import { runCli as runLagstorm, type RunCliOptions } from './run-cli';

/** This file's runs are SIGKILLed on a timeout, as before the helper was shared. */
const runCli = (args: string[], options: RunCliOptions = {}) => runLagstorm(args, { killSignal: 'SIGKILL', ...options });

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface StateItem {
  item: { kind: string; pid?: number; path?: string };
}

function readState(runDir: string): StateItem[] {
  const file = path.join(runDir, 'state.json');
  if (!fs.existsSync(file)) return [];
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { items: StateItem[] }).items;
}

interface Verdicts {
  verdict: string;
  checks: Array<{ name: string; valid: unknown }>;
  slos: Array<{ metric: string; phase?: string; limit: string; ok: unknown }>;
}

/** Every row of a summary's verdict: each check's validity and each SLO's outcome, by name. */
function verdictRows(summary: Verdicts): Record<string, unknown> {
  return {
    verdict: summary.verdict,
    ...Object.fromEntries(summary.checks.map((check) => [`check ${check.name}`, check.valid])),
    ...Object.fromEntries(summary.slos.map((slo) => [`slo ${slo.metric}${slo.phase ? `[${slo.phase}]` : ''} ${slo.limit}`, slo.ok])),
  };
}

/** The smoke's process-runtime summary (seed 7), compared with the containers runtime's below. */
let processSmoke: Verdicts | undefined;

describe('lagstorm run (real stack)', () => {
  let out: string;
  beforeEach(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-cli-'));
  });
  afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

  it('runs the smoke scenario to a passing verdict and leaves a complete run folder and nothing running', async () => {
    const result = await runCli(['run', 'scenarios/smoke.scenario.ts', '--seed', '7', '--out', out]);
    const runDir = fs.realpathSync(path.join(out, 'latest'));
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
    processSmoke = summary as Verdicts;
    expect({ code: result.code, verdict: summary.verdict, failing: summary.checks.filter((c: { valid: unknown }) => c.valid !== true && c.valid !== 'n/a').map((c: { summary: string }) => c.summary), errors: summary.errors }).toEqual({ code: 0, verdict: 'pass', failing: [], errors: [] });
    expect(summary).toMatchObject({ exitCode: 0, seed: 7, scenario: 'smoke' });
    expect(Object.fromEntries(summary.checks.map((c: { name: string; valid: unknown }) => [c.name, c.valid]))).toEqual({
      'acked-durable': true,
      'exactly-once': true,
      conservation: true,
      'acked-effects': true,
      'transfers-conserved': 'n/a', // the reference game's gold is created and destroyed, not only transferred
      'exactly-once-keys': true,
      'no-desync': true,
      monotonic: true,
      recovery: true,
    });
    expect(summary.game).toBe('reference');
    expect(summary.faults.map((f: { fault: string; healed: boolean }) => [f.fault, f.healed])).toEqual([
      ['latency', true],
      ['backend-crash', true],
    ]);
    expect(summary.stats.actions.ok).toBeGreaterThan(200);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'scenario.json'), 'utf8'))).toMatchObject({ name: 'smoke', seed: 7, duration: 24_000 });
    for (const file of ['history.jsonl.gz', 'junit.xml', 'summary.md', 'report.html', 'dashboard.json']) expect(fs.existsSync(path.join(runDir, file))).toBe(true);
    expect(fs.readdirSync(path.join(runDir, 'logs')).sort()).toEqual(expect.arrayContaining(['backend.log', 'postgresql.log', 'prometheus.log', 'toxiproxy.log']));
    expect(result.stdout).toContain(`report: ${path.join(runDir, 'report.html')}`);
    expect(readState(runDir)).toEqual([]);
    // Every catalogue panel's PromQL returned data from this run's live Prometheus.
    const panels = JSON.parse(fs.readFileSync(path.join(runDir, 'panels.json'), 'utf8')) as Array<{ id: string; points: number; error?: string }>;
    expect(panels.length).toBeGreaterThanOrEqual(30);
    expect(panels.filter((panel) => panel.points === 0 || panel.error).map((panel) => `${panel.id}: ${panel.error ?? 'no data'}`)).toEqual([]);
  });

  it('gives the same verdict, check by check and SLO by SLO, on --runtime containers for the same seed, and leaves no container', async () => {
    expect(processSmoke).toBeDefined(); // the process run above
    await ensureImages();
    const result = await runCli(['run', 'scenarios/smoke.scenario.ts', '--runtime', 'containers', '--seed', '7', '--out', out, '--reporters', 'console,json'], { timeoutMs: 240_000 });
    const runDir = fs.realpathSync(path.join(out, 'latest'));
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as Verdicts & { errors: string[]; faults: Array<{ fault: string; healed: boolean }> };
    expect({ code: result.code, errors: summary.errors, rows: verdictRows(summary) }).toEqual({ code: 0, errors: [], rows: verdictRows(processSmoke!) });
    expect(summary.faults.map((f) => [f.fault, f.healed])).toEqual([
      ['latency', true],
      ['backend-crash', true],
    ]);
    const state = JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8')) as { runId: string; items: unknown[] };
    expect(state.items).toEqual([]);
    configureTestcontainers();
    const docker = (await getContainerRuntimeClient()).container.dockerode;
    expect(await docker.listContainers({ all: true, filters: { label: [`${RUN_ID_LABEL}=${state.runId}`] } })).toEqual([]);
    expect(fs.readdirSync(path.join(runDir, 'logs'))).toEqual(expect.arrayContaining(['backend.log', 'postgresql.log', 'prometheus.log', 'toxiproxy.log']));
  }, 300_000);

  it('on SIGINT midway heals, tears the stack down, exits 130 and leaves no process, port or temp dir', async () => {
    let runDir = '';
    let seen: StateItem[] = [];
    let signalled = false;
    const result = await runCli(['run', 'scenarios/smoke.scenario.ts', '--seed', '3', '--out', out, '--reporters', 'console,json'], {
      onStdout: (text, child) => {
        // Interrupt while the first fault is active: the toxic must be removed too.
        if (!signalled && text.includes('fault started: latency')) {
          signalled = true;
          runDir = fs.realpathSync(path.join(out, 'latest'));
          seen = readState(runDir);
          child.kill('SIGINT');
        }
      },
    });
    expect(signalled).toBe(true);
    expect(result.code).toBe(130);
    const pids = seen.filter((s) => s.item.kind === 'process').map((s) => s.item.pid as number);
    const dirs = seen.filter((s) => s.item.kind === 'dir').map((s) => s.item.path as string);
    expect(pids.length).toBeGreaterThanOrEqual(4); // postgres, toxiproxy, backend, prometheus
    expect(dirs.length).toBeGreaterThanOrEqual(1);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(dirs.filter((dir) => fs.existsSync(dir))).toEqual([]);
    expect(readState(runDir)).toEqual([]);
    const endpoints = JSON.parse(fs.readFileSync(path.join(runDir, 'stack.json'), 'utf8')).endpoints as Record<string, string>;
    const ports = Object.values(endpoints).map((url) => Number(new URL(url).port));
    expect(ports.length).toBeGreaterThanOrEqual(5);
    for (const port of ports) expect(await isListening(port, '127.0.0.1', 300)).toBe(false);
    const scenario = JSON.parse(fs.readFileSync(path.join(runDir, 'scenario.json'), 'utf8'));
    expect(scenario.seed).toBe(3);
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
    expect(summary.verdict).toBe('error');
    expect(summary.errors.join('\n')).toMatch(/interrupted/);
  });

  it('when toxiproxy dies mid-run (no fault), stops with exit 2 naming it, and leaves nothing behind', async () => {
    let runDir = '';
    let seen: StateItem[] = [];
    let killed = false;
    const result = await runCli(['run', 'scenarios/smoke.scenario.ts', '--seed', '4', '--out', out, '--reporters', 'console,json'], {
      onStdout: (text) => {
        // Kill it from outside during the baseline phase, before the first fault.
        if (!killed && /bots \d+ \|/.test(text)) {
          killed = true;
          runDir = fs.realpathSync(path.join(out, 'latest'));
          seen = readState(runDir);
          const toxiproxy = seen.find((s) => s.item.kind === 'process' && (s.item as { name?: string }).name === 'toxiproxy');
          process.kill(toxiproxy!.item.pid!, 'SIGKILL');
        }
      },
    });
    expect(killed).toBe(true);
    expect(result.code).toBe(2);
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
    expect(summary.verdict).toBe('error');
    expect(summary.errors.join('\n')).toMatch(/toxiproxy died during the run without a fault/);
    const pids = seen.filter((s) => s.item.kind === 'process').map((s) => s.item.pid as number);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(readState(runDir)).toEqual([]);
  });

  it('replay re-runs a run with its seed: the same scenario and, per player, the same action sequence', async () => {
    const file = path.join(out, 'tiny.json');
    fs.writeFileSync(file, JSON.stringify({ name: 'tiny', duration: '3s', recovery: { window: '1s' }, bots: { p: { profile: 'grinder', count: 3 } }, checks: ['acked-durable', 'conservation'] }));
    const first = await runCli(['run', file, '--seed', '11', '--out', out, '--reporters', 'json']);
    expect(first.code).toBe(0);
    const firstDir = fs.realpathSync(path.join(out, 'latest'));
    const second = await runCli(['replay', firstDir, '--out', out]);
    expect(second.code).toBe(0);
    const secondDir = fs.realpathSync(path.join(out, 'latest'));
    expect(secondDir).not.toBe(firstDir);
    const scenarioOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'scenario.json'), 'utf8'));
    expect(scenarioOf(secondDir)).toMatchObject({ ...scenarioOf(firstDir), source: expect.any(String) });
    const actionsOf = async (dir: string) => {
      const byPlayer = new Map<string, string[]>();
      for (const entry of (await readHistoryAll(dir)) as ClientOp[]) {
        if (entry.type === 'invoke' && entry.f !== 'login') byPlayer.set(entry.player, [...(byPlayer.get(entry.player) ?? []), `${entry.seq}:${entry.f}`]);
      }
      return byPlayer;
    };
    const a = await actionsOf(firstDir);
    const b = await actionsOf(secondDir);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [player, sequence] of a) {
      const shorter = Math.min(sequence.length, b.get(player)!.length);
      expect(shorter).toBeGreaterThan(3);
      expect(b.get(player)!.slice(0, shorter)).toEqual(sequence.slice(0, shorter));
    }
  });

  it('rejects an invalid scenario with exit 3, names the field, and starts nothing', async () => {
    const bad = path.join(out, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ name: 'bad', duration: '-3s', bots: { a: { profile: 'casual', count: 'many' } } }));
    const runs = path.join(out, 'runs');
    const result = await runCli(['run', bad, '--out', runs]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/duration: .*not a duration/);
    expect(result.stderr).toMatch(/bots\.a\.count: expected number/);
    expect(fs.existsSync(runs)).toBe(false);
  });

  it.each([
    ['a missing file', ['run', 'scenarios/nope.scenario.ts'], /scenario file not found: scenarios\/nope\.scenario\.ts/],
    ['a bad --seed', ['run', 'scenarios/smoke.scenario.ts', '--seed', 'abc'], /--seed must be a non-negative integer/],
    ['an unknown runtime', ['run', 'scenarios/smoke.scenario.ts', '--runtime', 'k8s'], /--runtime must be "process" or "containers"/],
  ])('exits 3 for %s', async (_label, args, message) => {
    const result = await runCli([...args, '--out', path.join(out, 'runs')]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(message);
    expect(fs.existsSync(path.join(out, 'runs'))).toBe(false);
  });

  it('exits 3 for a scenario file with a syntax error, quoting the loader', async () => {
    const file = path.join(out, 'broken.scenario.ts');
    fs.writeFileSync(file, "import { defineScenario } from 'lagstorm';\nexport default defineScenario({ name: 'x', duration: '1s' bots: {} });\n");
    const result = await runCli(['run', file, '--out', path.join(out, 'runs')]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/broken\.scenario\.ts could not be loaded/);
  });

});
