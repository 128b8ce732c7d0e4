/**
 * A backend that is already running (scenario `target`): the counter test game's server, started
 * here with its own PostgreSQL, is played through the bots-backend proxy with a latency fault to a
 * verdict; lagstorm starts neither a backend nor a PostgreSQL. A fault that needs the backend's
 * process is refused before anything starts, naming the capability.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, isListening } from '../stack/ports';
import { startPostgres, type PostgresCluster } from '../stack/postgres';
import { REPO, runCli } from './run-cli';

const GAME = path.join(REPO, 'test', 'fixtures', 'counter-game', 'index.ts');
const SERVER = path.join(REPO, 'test', 'fixtures', 'counter-game', 'server.ts');

describe('target.url: a backend lagstorm did not start', () => {
  let dir: string;
  let postgres: PostgresCluster | undefined;
  let server: ChildProcess | undefined;
  let target: { url: string; adminUrl: string };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-target-'));
    postgres = await startPostgres({ baseDir: path.join(dir, 'pg'), logFile: path.join(dir, 'postgres.log') });
    const [port, adminPort] = [await freePort(), await freePort()];
    const log = fs.openSync(path.join(dir, 'server.log'), 'a');
    server = spawn(process.execPath, [path.join(REPO, 'bin', 'run-ts.js'), SERVER, '--port', String(port), '--admin-port', String(adminPort), '--database-url', postgres.superuserUrl], { stdio: ['ignore', log, log] });
    target = { url: `ws://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}` };
    for (let i = 0; i < 100 && !(await fetch(`${target.adminUrl}/readyz`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
  }, 60_000);

  afterAll(async () => {
    server?.kill('SIGTERM');
    await postgres?.stop('SIGINT', 10_000).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const scenario = (name: string, faults: unknown[]): string => {
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify({ name, game: GAME, target, duration: '8s', recovery: { window: '3s', reconnectWithin: '3s' }, bots: { clickers: { profile: 'clicker', count: 4 } }, faults: { timeline: faults } }));
    return file;
  };

  it('plays the running backend through the proxy with a latency fault to a verdict', async () => {
    const out = path.join(dir, 'runs');
    const result = await runCli(['run', scenario('target-latency', [{ at: '2s', duration: '3s', fault: 'latency', params: { latency: 300 } }]), '--seed', '5', '--out', out], { timeoutMs: 100_000 });
    const runDir = fs.realpathSync(path.join(out, 'latest'));
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
    expect({ code: result.code, verdict: summary.verdict, errors: summary.errors }).toEqual({ code: 0, verdict: 'pass', errors: [] });
    expect(Object.fromEntries(summary.checks.map((c: { name: string; valid: unknown }) => [c.name, c.valid]))).toMatchObject({ counter: true, 'acked-effects': true });
    expect(summary.faults.map((f: { fault: string; healed: boolean }) => [f.fault, f.healed])).toEqual([['latency', true]]);
    // The latency went through the proxy: actions in the fault window waited for it.
    expect(summary.stats.latencyByPhase.fault.all.p50).toBeGreaterThan(250);
    const stack = JSON.parse(fs.readFileSync(path.join(runDir, 'stack.json'), 'utf8'));
    expect(stack.links['bots-backend'].upstream).toBe(target.url.replace('ws://', ''));
    expect(stack.endpoints.postgresUrl).toBeUndefined();
    expect(fs.existsSync(path.join(runDir, 'logs', 'backend.log'))).toBe(false);
    expect(fs.existsSync(path.join(runDir, 'logs', 'postgresql.log'))).toBe(false);
    // The backend we started is still ours and still up.
    expect(await isListening(Number(new URL(target.url).port))).toBe(true);
  }, 120_000);

  it('refuses a fault that needs the backend process before anything starts (exit 3, naming the capability)', async () => {
    const out = path.join(dir, 'refused');
    const result = await runCli(['run', scenario('target-crash', [{ at: '2s', duration: '2s', fault: 'backend-crash' }]), '--out', out], { timeoutMs: 30_000 });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/faults\.timeline\[0\]\.fault "backend-crash" needs service:backend:kill, service:backend:start, which runtime "process" with target\.url \(a backend lagstorm did not start\) does not offer/);
    expect(fs.existsSync(out)).toBe(false);
  }, 60_000);
});
