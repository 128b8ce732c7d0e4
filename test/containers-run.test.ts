/**
 * `lagstorm run --runtime containers` through the real CLI: a fault the containers runtime cannot do
 * (slow-wal-disk: its blkio throttle does not reach a container), and a backend given only as a host
 * entry point, are refused before anything starts.
 * The smoke scenario on containers is in cli-run.test.ts, beside the process run it is compared with.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureImages } from '../stack/images/images';
import { runCli } from './run-cli';

let out: string;
beforeAll(async () => {
  await ensureImages();
}, 900_000);
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-containers-cli-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

describe('lagstorm run --runtime containers', () => {
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

  it('refuses a backend.entry (a host file) without backend.image before anything starts (exit 3)', async () => {
    fs.writeFileSync(path.join(out, 'my-server.ts'), 'export {};\n');
    const scenario = path.join(out, 'entry.scenario.ts');
    fs.writeFileSync(
      scenario,
      `import { defineScenario } from 'lagstorm';
export default defineScenario({ name: 'entry-on-containers', duration: '5s', backend: { entry: './my-server.ts' }, bots: { casual: { profile: 'casual', count: 1 } } });
`,
    );
    const result = await runCli(['run', scenario, '--runtime', 'containers', '--out', path.join(out, 'runs')], { timeoutMs: 60_000 });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`backend.entry (${path.join(out, 'my-server.ts')}) is a file on this host, which runtime "containers" cannot run; set backend.image`);
    expect(fs.existsSync(path.join(out, 'runs'))).toBe(false);
  }, 90_000);
});
