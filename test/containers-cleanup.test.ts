/**
 * Nothing left behind by the containers runtime: SIGTERM tears the stack down (exit 143); a driver
 * killed with SIGKILL leaves run-labelled containers that `lagstorm cleanup` removes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
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
});
