/** The smaller CLI commands through the real binary: help, doctor, dashboards, cleanup. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, '..', 'bin', 'lagstorm.js');
const lagstorm = (...args: string[]) => exec(process.execPath, [CLI, ...args]);

describe('lagstorm commands', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-cmd-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(['run', 'capacity', 'replay', 'explain', 'validate', 'selftest', 'doctor', 'setup', 'cleanup', 'dashboards'])('%s --help explains itself and exits 0', async (command) => {
    const { stdout } = await lagstorm(command, '--help');
    expect(stdout).toMatch(new RegExp(`^Usage: lagstorm ${command}`));
  });

  it('selftest --runtime takes process or containers only: anything else is exit 3, naming the flag, and runs nothing', async () => {
    const failed = await lagstorm('selftest', '--runtime', 'k8s', '--out', path.join(dir, 'runs')).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(failed).toEqual({ code: 3, stderr: expect.stringContaining('--runtime must be "process" or "containers", not "k8s"') });
    expect(fs.existsSync(path.join(dir, 'runs'))).toBe(false);
  });

  it('doctor --json lists every part with its status', async () => {
    const { stdout } = await lagstorm('doctor', '--json');
    const parts = JSON.parse(stdout) as Array<{ name: string; present: boolean }>;
    expect(parts.map((p) => p.name)).toEqual(['postgresql', 'toxiproxy-server', 'prometheus', 'nft', 'chromium', 'dockerd', 'k6']);
    expect(parts.filter((p) => p.name !== 'k6' && p.name !== 'dockerd' && !p.present)).toEqual([]);
  });

  it('dashboards --out writes a current-schema Grafana dashboard and a scrape config', async () => {
    const { stdout } = await lagstorm('dashboards', '--out', dir);
    const files = stdout.trim().split('\n');
    const dashboard = JSON.parse(fs.readFileSync(files.find((f) => f.endsWith('.json'))!, 'utf8'));
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.panels.filter((p: { type: string }) => p.type === 'timeseries').length).toBeGreaterThanOrEqual(30);
    expect(fs.readFileSync(files.find((f) => f.endsWith('prometheus.yml'))!, 'utf8')).toMatch(/scrape_configs:/);
  });

  it('cleanup removes the debris of a run whose lagstorm process is gone, and a second cleanup finds nothing', async () => {
    const runs = path.join(dir, 'runs');
    const leftover = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-leftover-'));
    fs.mkdirSync(path.join(runs, 'killed-run'), { recursive: true });
    // A state file as a SIGKILLed run leaves it: an owner pid that no longer exists, a temp dir.
    fs.writeFileSync(
      path.join(runs, 'killed-run', 'state.json'),
      JSON.stringify({ version: 1, runId: 'killed-run', owner: { pid: 2 ** 22 + 17 }, updatedAt: new Date().toISOString(), items: [{ id: '1', item: { kind: 'dir', path: leftover } }] }),
    );
    const first = await lagstorm('cleanup', '--runs', runs);
    expect(first.stdout).toMatch(/cleanup: 1 run\(s\) inspected, 1 item\(s\) removed, 0 failed/);
    expect(fs.existsSync(leftover)).toBe(false);
    const second = await lagstorm('cleanup', '--runs', runs);
    expect(second.stdout).toMatch(/0 item\(s\) removed, 0 failed/);
  });
});
