/** SIGINT reaches a running lagstorm: the stack is torn down and it exits 130. SIGKILL: cleanup removes the debris. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { debrisUndoers } from '../chaos/debris-undoers';
import { cleanupDebris, readStateFile } from '../stack/state-file';
import { backendEntry, isAlive, leftovers, NOTHING_LEFT, type StackTraces } from './stack-helpers';

const REPO = path.resolve(__dirname, '..');

function startDriver(runDir: string): { child: ChildProcess; traces: Promise<StackTraces>; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; stderr: () => string } {
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'run-ts.js'), path.join(REPO, 'test', 'fixtures', 'stack-driver.ts'), runDir, backendEntry() ?? ''], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const traces = new Promise<StackTraces>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`driver printed nothing within 60 s; stderr:\n${stderr}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line && stdout.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as StackTraces);
      }
    });
    void exit.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`driver exited (code ${code}) before printing its stack; stderr:\n${stderr}`));
    });
  });
  return { child, traces, exit, stderr: () => stderr };
}

describe('process runtime under signals', () => {
  let runsDir: string;
  const drivers: ChildProcess[] = [];

  beforeAll(() => {
    runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-signals-test-'));
  });
  afterAll(async () => {
    for (const child of drivers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await cleanupDebris(runsDir, { undoers: debrisUndoers, force: true }); // whatever a failed test left
    fs.rmSync(runsDir, { recursive: true, force: true });
  });

  it('SIGINT midway: exit code 130 and nothing left behind', async () => {
    const driver = startDriver(path.join(runsDir, 'sigint'));
    drivers.push(driver.child);
    const traces = await driver.traces;
    expect(Object.values(traces.pids).every(isAlive)).toBe(true);
    driver.child.kill('SIGINT');
    const exit = await driver.exit;
    expect({ exit, stderr: driver.stderr().includes('SIGINT received') }).toEqual({ exit: { code: 130, signal: null }, stderr: true });
    expect(await leftovers(traces)).toEqual(NOTHING_LEFT);
  });

  it('SIGKILL leaves debris that cleanupDebris removes completely', async () => {
    const driver = startDriver(path.join(runsDir, 'sigkill'));
    drivers.push(driver.child);
    const traces = await driver.traces;
    driver.child.kill('SIGKILL');
    await driver.exit;

    // The parts outlive a killed lagstorm (own process groups) and the state file lists them.
    const before = await leftovers(traces);
    expect(before.processes).toHaveLength(4);
    expect(before.workDirExists).toBe(true);
    expect(before.stateItems.length).toBeGreaterThanOrEqual(6);

    const report = await cleanupDebris(runsDir, { undoers: debrisUndoers, killTimeoutMs: 10_000 });
    expect(report.failed).toBe(0);
    const run = report.runs.find((entry) => entry.runId === 'sigkill')!;
    expect(run.actions.map((action) => `${action.item.kind}:${action.outcome}`).sort()).toEqual(
      ['dir:undone', 'process:undone', 'process:undone', 'process:undone', 'process:undone', 'toxiproxy-reset:undone'].sort(),
    );
    expect(await leftovers(traces)).toEqual(NOTHING_LEFT);
    expect(readStateFile(traces.stateFile).items).toEqual([]);

    const again = await cleanupDebris(runsDir, { undoers: debrisUndoers });
    expect(again.runs.flatMap((entry) => entry.actions)).toEqual([]);
  });
});
