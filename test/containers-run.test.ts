/**
 * `lagstorm run --runtime containers` through the real CLI: the smoke scenario passes on containers
 * and leaves no container; a fault the containers runtime cannot do (slow-wal-disk: its blkio throttle
 * does not reach a container) is refused before anything starts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { ensureImages } from '../stack/images/images';
import { configureTestcontainers, RUN_ID_LABEL } from '../stack/images/start-container';
import { runCli } from './run-cli';

async function containersOf(runId: string): Promise<string[]> {
  configureTestcontainers();
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  return (await docker.listContainers({ all: true, filters: { label: [`${RUN_ID_LABEL}=${runId}`] } })).map((info) => info.Names[0]);
}

let out: string;
beforeAll(async () => {
  await ensureImages();
}, 900_000);
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-containers-cli-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

describe('lagstorm run --runtime containers', () => {
  it('runs the smoke scenario to a passing verdict and leaves no container', async () => {
    const result = await runCli(['run', 'scenarios/smoke.scenario.ts', '--runtime', 'containers', '--seed', '1', '--out', out], { timeoutMs: 240_000 });
    const runDir = fs.realpathSync(path.join(out, 'latest'));
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
    const failing = [
      ...summary.checks.filter((c: { valid: unknown }) => c.valid !== true && c.valid !== 'n/a').map((c: { name: string }) => c.name),
      ...summary.slos.filter((slo: { ok: boolean }) => !slo.ok).map((slo: { metric: string; phase?: string; observed: number; limit: string }) => `${slo.metric} ${slo.phase ?? ''} ${slo.limit}: ${slo.observed}`),
    ];
    expect({ code: result.code, verdict: summary.verdict, failing, errors: summary.errors }).toEqual({ code: 0, verdict: 'pass', failing: [], errors: [] });
    expect(summary.faults.map((f: { fault: string; healed: boolean }) => [f.fault, f.healed])).toEqual([
      ['latency', true],
      ['backend-crash', true],
    ]);
    const state = JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8')) as { runId: string; items: unknown[] };
    expect(state.items).toEqual([]);
    expect(await containersOf(state.runId)).toEqual([]);
    expect(fs.readdirSync(path.join(runDir, 'logs'))).toEqual(expect.arrayContaining(['backend.log', 'postgresql.log', 'prometheus.log', 'toxiproxy.log']));
  }, 300_000);

  it('refuses a scenario with slow-wal-disk before anything starts, naming the runtime (exit 3)', async () => {
    const scenario = path.join(out, 'wal.scenario.ts');
    fs.writeFileSync(
      scenario,
      `import { defineScenario } from 'lagstorm';
export default defineScenario({
  name: 'wal-on-containers',
  duration: '10s',
  bots: { casual: { profile: 'casual', count: 2 } },
  faults: { timeline: [{ at: '2s', duration: '3s', fault: 'slow-wal-disk', params: {} }] },
});
`,
    );
    const result = await runCli(['run', scenario, '--runtime', 'containers', '--out', out], { timeoutMs: 60_000 });
    expect(result.code).toBe(3);
    expect(result.stderr + result.stdout).toMatch(/"slow-wal-disk" needs host:blkio, which runtime "containers" does not offer/);
    expect(fs.readdirSync(out).filter((name) => name !== 'wal.scenario.ts')).toEqual([]);
  }, 90_000);
});
