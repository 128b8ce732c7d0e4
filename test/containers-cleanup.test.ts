/**
 * Nothing left behind by the containers runtime: SIGTERM tears the stack down (exit 143); a driver
 * killed with SIGKILL leaves run-labelled containers that `lagstorm cleanup` removes. Through the real
 * CLI, midway through a kernel-packet-loss fault: SIGINT heals and tears down (exit 130), and a
 * SIGKILLed run's containers, nft table, shared mount and temp dir are removed by `lagstorm cleanup`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { nftTableExists } from '../chaos/kernel/nft';
import type { DebrisItem } from '../stack/debris';
import { ensureImages } from '../stack/images/images';
import { configureTestcontainers, RUN_ID_LABEL, removeRunContainers } from '../stack/images/start-container';
import { isListening } from '../stack/ports';
import { readStateFile } from '../stack/state-file';
import { REPO, runCli } from './run-cli';

const DRIVER = path.join(__dirname, 'fixtures', 'containers-driver.ts');
let runsDir: string;
const runIds: string[] = [];

async function containersOf(runId: string): Promise<number> {
  configureTestcontainers();
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  return (await docker.listContainers({ all: true, filters: { label: [`${RUN_ID_LABEL}=${runId}`] } })).length;
}

async function volumesOf(runId: string): Promise<number> {
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  return ((await docker.listVolumes({ filters: { label: [`${RUN_ID_LABEL}=${runId}`] } })).Volumes ?? []).length;
}

const mounted = (dir: string): boolean => fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').some((line) => (line.split(' ')[1] ?? '').startsWith(dir));

/** What a run's state file listed midway that still exists now, by kind. */
async function stillThere(runId: string, seen: DebrisItem[]): Promise<Record<string, number | string[]>> {
  const nft = seen.filter((item): item is Extract<DebrisItem, { kind: 'nft-table' }> => item.kind === 'nft-table');
  const dirs = seen.flatMap((item) => (item.kind === 'dir' || item.kind === 'mount' ? [item.path] : []));
  return {
    containers: await containersOf(runId),
    volumes: await volumesOf(runId),
    nftTables: (await Promise.all(nft.map(async (item) => ((await nftTableExists(item.table, item.family)) ? item.table : '')))).filter(Boolean),
    mounts: dirs.filter(mounted),
    dirs: dirs.filter((dir) => fs.existsSync(dir)),
  };
}
const NOTHING = { containers: 0, volumes: 0, nftTables: [], mounts: [], dirs: [] };

/** 30 s of play with kernel packet loss on the bots' link from 3 s to 23 s: the CLI is signalled inside it. */
function lossyScenario(dir: string, name: string): string {
  const file = path.join(dir, `${name}.scenario.ts`);
  fs.writeFileSync(
    file,
    `import { defineScenario } from 'lagstorm';
export default defineScenario({
  name: '${name}',
  runtime: 'containers',
  duration: '30s',
  bots: { casual: { profile: 'casual', count: 4 } },
  faults: { timeline: [{ at: '3s', duration: '20s', fault: 'kernel-packet-loss', params: { target: 'bots-backend', percent: 10 } }] },
});
`,
  );
  return file;
}

/** Runs the scenario through the CLI and sends \`signal\` once the fault is on; returns the state file's items at that moment. */
async function signalMidway(name: string, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string; runDir: string; runId: string; seen: DebrisItem[] }> {
  const out = path.join(runsDir, name);
  fs.mkdirSync(out);
  let seen: DebrisItem[] = [];
  let runDir = '';
  const result = await runCli(['run', lossyScenario(runsDir, name), '--seed', '5', '--out', out, '--reporters', 'console,json'], {
    timeoutMs: 180_000,
    onStdout: (text, child) => {
      if (runDir || !text.includes('fault started: kernel-packet-loss')) return;
      runDir = fs.realpathSync(path.join(out, 'latest'));
      // "fault started" is printed as inject begins: signal once its nft table is in the state file (bounded).
      void (async () => {
        for (let attempt = 0; attempt < 50 && !seen.some((item) => item.kind === 'nft-table'); attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          seen = readStateFile(path.join(runDir, 'state.json')).items.map((entry) => entry.item);
        }
        child.kill(signal);
      })();
    },
  });
  const runId = runDir ? readStateFile(path.join(runDir, 'state.json')).runId : '';
  if (runId) runIds.push(runId);
  return { code: result.code, stderr: result.stderr, runDir, runId, seen };
}

interface Started {
  child: ReturnType<typeof spawn>;
  info: { runId: string; workDir: string; ports: number[] };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function startDriver(name: string): Promise<Started> {
  const runDir = path.join(runsDir, `${name}-${process.pid}`);
  runIds.push(path.basename(runDir));
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'run-ts.js'), DRIVER, runDir], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`driver did not start in time:\n${stderr}`));
    }, 90_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!stdout.includes('\n')) return;
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(stdout.split('\n')[0]) as Started['info'], exited });
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      if (!stdout.includes('\n')) reject(new Error(`driver exited ${code} before starting:\n${stderr}`));
    });
  });
}

beforeAll(async () => {
  runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-containers-cleanup-'));
  await ensureImages();
}, 900_000);

afterAll(async () => {
  for (const runId of runIds) await removeRunContainers(runId);
  fs.rmSync(runsDir, { recursive: true, force: true });
});

describe('containers runtime leaves nothing behind', () => {
  it('SIGTERM: the driver tears the stack down and exits 143', async () => {
    const { child, info, exited } = await startDriver('sigterm');
    expect(await containersOf(info.runId)).toBe(4);
    child.kill('SIGTERM');
    const { code, stderr } = await exited;
    expect(code).toBe(143);
    expect(stderr).toMatch(/torn down in \d+ ms/);
    expect(await containersOf(info.runId)).toBe(0);
    expect(fs.existsSync(info.workDir)).toBe(false);
    for (const port of info.ports) expect(await isListening(port)).toBe(false);
  }, 150_000);

  it('SIGKILL: the containers outlive the driver; `lagstorm cleanup` removes them and the temp dir', async () => {
    const { child, info, exited } = await startDriver('sigkill');
    child.kill('SIGKILL');
    await exited;
    expect(await containersOf(info.runId)).toBe(4); // nobody tore them down
    const stateFile = path.join(runsDir, info.runId, 'state.json');
    expect(readStateFile(stateFile).items.filter((entry) => entry.item.kind === 'container').length).toBe(4);

    const result = await runCli(['cleanup', '--runs', runsDir], { timeoutMs: 120_000 });
    expect({ code: result.code, stderr: result.stderr, stdout: result.stdout }).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/undone container lagstorm-/);
    expect(await containersOf(info.runId)).toBe(0);
    expect(fs.existsSync(info.workDir)).toBe(false);
    expect(readStateFile(stateFile).items).toEqual([]);
    for (const port of info.ports) expect(await isListening(port)).toBe(false);
  }, 200_000);

  it('SIGINT midway through a fault (CLI): heals, tears down, exits 130; no container, volume, mount, nft table or temp dir left', async () => {
    const { code, stderr, runDir, runId, seen } = await signalMidway('sigint-cli', 'SIGINT');
    expect(runDir).not.toBe('');
    // What could leak was there: the four containers, the nft table of the fault, the shared work dir mount.
    expect(seen.filter((item) => item.kind === 'container').length).toBe(4);
    expect(seen.filter((item) => item.kind === 'nft-table').length).toBe(1);
    expect(seen.filter((item) => item.kind === 'mount').length).toBeGreaterThanOrEqual(1);
    expect({ code, interrupted: stderr.includes('SIGINT: stopping bots') }).toEqual({ code: 130, interrupted: true });
    expect(await stillThere(runId, seen)).toEqual(NOTHING);
    expect(readStateFile(path.join(runDir, 'state.json')).items).toEqual([]);
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as { verdict: string; errors: string[]; faults: Array<{ fault: string; healed: boolean }> };
    expect({ verdict: summary.verdict, faults: summary.faults.map((f) => [f.fault, f.healed]) }).toEqual({ verdict: 'error', faults: [['kernel-packet-loss', true]] });
    expect(summary.errors.join('\n')).toMatch(/interrupted/);
  }, 240_000);

  it('SIGKILL midway through a fault (CLI): the debris outlives it; `lagstorm cleanup --runs` removes all of it', async () => {
    const { code, runDir, runId, seen } = await signalMidway('sigkill-cli', 'SIGKILL');
    expect(code).toBe(null);
    const before = await stillThere(runId, seen);
    expect(before).toMatchObject({ containers: 4, nftTables: [expect.stringMatching(/^lagstorm_/)] });
    expect((before.mounts as string[]).length).toBeGreaterThanOrEqual(1);

    const result = await runCli(['cleanup', '--runs', path.dirname(runDir)], { timeoutMs: 120_000 });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await stillThere(runId, seen)).toEqual(NOTHING);
    expect(readStateFile(path.join(runDir, 'state.json')).items).toEqual([]);
  }, 240_000);
});
