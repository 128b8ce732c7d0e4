import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processStartTime } from './managed-process';
import { freePort } from './ports';
import { cleanupDebris, readStateFile, StateFileRecorder, type StateFileOwner } from './state-file';
import type { DebrisUndoers } from './undo-debris';

/** Alive and not a zombie (a zombie's parent may not reap it at once). */
function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]);
  } catch {
    return false;
  }
}

async function deadOwner(): Promise<StateFileOwner> {
  const child = spawn('true');
  const pid = child.pid!;
  await new Promise((resolve) => child.once('exit', resolve));
  return { pid, startTime: '1' };
}

describe('cleanupDebris', () => {
  let runsDir: string;
  const children: ChildProcess[] = [];

  function startSleeper(script = 'sleep 60'): ChildProcess {
    const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    children.push(child);
    return child;
  }

  beforeEach(() => {
    runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-cleanup-test-'));
  });
  afterEach(() => {
    for (const child of children.splice(0)) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(runsDir, { recursive: true, force: true });
  });

  it('undoes a dead run in reverse order (fault kinds by their undoers), reports it, and is idempotent', async () => {
    const sleeper = startSleeper();
    const pid = sleeper.pid!;
    const startTime = processStartTime(pid);
    const leftDir = path.join(runsDir, 'left-behind');
    fs.mkdirSync(path.join(leftDir, 'nested'), { recursive: true });
    const closedPort = await freePort();
    const recorder = new StateFileRecorder(path.join(runsDir, 'run-a', 'state.json'), 'run-a', await deadOwner());
    recorder.record({ kind: 'dir', path: leftDir });
    recorder.record({ kind: 'process', name: 'sleeper', pid, startTime });
    recorder.record({ kind: 'toxiproxy-reset', apiUrl: `http://127.0.0.1:${closedPort}` });
    recorder.record({ kind: 'mount', path: path.join(runsDir, 'never-mounted') });
    recorder.record({ kind: 'cgroup', path: '/sys/fs/cgroup/lagstorm-test-no-such-group' });
    fs.symlinkSync(path.join(runsDir, 'run-a'), path.join(runsDir, 'latest')); // must not be cleaned twice

    const lines: string[] = [];
    const undone: string[] = [];
    const undoers: DebrisUndoers = {
      'toxiproxy-reset': () => (undone.push('toxiproxy-reset'), { outcome: 'absent', detail: 'fake' }),
      mount: () => (undone.push('mount'), { outcome: 'absent', detail: 'fake' }),
      cgroup: () => (undone.push('cgroup'), { outcome: 'absent', detail: 'fake' }),
    };
    const report = await cleanupDebris(runsDir, { undoers, killTimeoutMs: 3000, log: (line) => lines.push(line) });
    expect(report.failed).toBe(0);
    expect(report.runs).toHaveLength(1);
    expect(report.runs[0].actions.map((action) => [action.item.kind, action.outcome])).toEqual([
      ['cgroup', 'absent'],
      ['mount', 'absent'],
      ['toxiproxy-reset', 'absent'],
      ['process', 'undone'],
      ['dir', 'undone'],
    ]);
    expect(isAlive(pid)).toBe(false);
    expect(fs.existsSync(leftDir)).toBe(false);
    expect(readStateFile(path.join(runsDir, 'run-a', 'state.json')).items).toEqual([]);
    expect(lines.some((line) => line.includes(`undone process sleeper pid ${pid}`))).toBe(true);
    expect(undone).toEqual(['cgroup', 'mount', 'toxiproxy-reset']);

    const again = await cleanupDebris(runsDir, { undoers });
    expect(again.runs[0].actions).toEqual([]);
  });

  it('never kills a process whose pid now belongs to someone else', async () => {
    const bystander = startSleeper();
    const pid = bystander.pid!;
    const recorder = new StateFileRecorder(path.join(runsDir, 'run-b', 'state.json'), 'run-b', await deadOwner());
    recorder.record({ kind: 'process', name: 'old-backend', pid, startTime: String(Number(processStartTime(pid)) - 1) });
    recorder.record({ kind: 'process', name: 'unknown-start', pid });

    const report = await cleanupDebris(runsDir, { undoers: {}, killTimeoutMs: 500 });
    expect(report.runs[0].actions.map((action) => action.outcome)).toEqual(['skipped', 'skipped']);
    expect(report.runs[0].actions[1].detail).toMatch(/now belongs to another process/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isAlive(pid)).toBe(true);
  });

  it('leaves a run alone while its lagstorm process lives, unless forced', async () => {
    const sleeper = startSleeper();
    const recorder = new StateFileRecorder(path.join(runsDir, 'run-c', 'state.json'), 'run-c'); // owner: this live process
    recorder.record({ kind: 'process', name: 'sleeper', pid: sleeper.pid!, startTime: processStartTime(sleeper.pid!) });

    const polite = await cleanupDebris(runsDir, { undoers: {} });
    expect(polite.runs[0].skipped).toMatch(/still runs this run/);
    expect(isAlive(sleeper.pid!)).toBe(true);

    const forced = await cleanupDebris(runsDir, { undoers: {}, force: true, killTimeoutMs: 3000 });
    expect(forced.runs[0].actions.map((action) => action.outcome)).toEqual(['undone']);
    expect(isAlive(sleeper.pid!)).toBe(false);
  });

  it('escalates to SIGKILL for a process group that ignores SIGTERM, and resumes a stopped one first', async () => {
    const stubborn = startSleeper('trap "" TERM; while true; do sleep 1; done');
    const stopped = startSleeper();
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the trap be installed
    process.kill(stopped.pid!, 'SIGSTOP');
    const recorder = new StateFileRecorder(path.join(runsDir, 'run-d', 'state.json'), 'run-d', await deadOwner());
    recorder.record({ kind: 'process', name: 'stubborn', pid: stubborn.pid!, startTime: processStartTime(stubborn.pid!) });
    recorder.record({ kind: 'process', name: 'stopped', pid: stopped.pid!, startTime: processStartTime(stopped.pid!) });

    const report = await cleanupDebris(runsDir, { undoers: {}, killTimeoutMs: 400 });
    const [stoppedAction, stubbornAction] = report.runs[0].actions;
    expect(stoppedAction).toMatchObject({ outcome: 'undone', detail: 'stopped with SIGTERM' });
    expect(stubbornAction).toMatchObject({ outcome: 'undone', detail: expect.stringMatching(/SIGKILL/) });
    expect(isAlive(stubborn.pid!)).toBe(false);
    expect(isAlive(stopped.pid!)).toBe(false);
  });

  it('hands every other kind to the undoer registered for it, and keeps an item no undoer knows', async () => {
    const calls: string[] = [];
    const undoers: DebrisUndoers = {
      'nft-table': (item) => (calls.push(`nft ${item.table}`), { outcome: 'undone', detail: 'fake nft' }),
      mount: async (item, options) => (calls.push(`mount ${item.path} ${options.callTimeoutMs}`), { outcome: 'absent', detail: 'fake mount' }),
      'pg-slot': () => {
        throw new Error('database exploded');
      },
    };
    const recorder = new StateFileRecorder(path.join(runsDir, 'run-x', 'state.json'), 'run-x', await deadOwner());
    recorder.record({ kind: 'nft-table', family: 'inet', table: 't1' });
    recorder.record({ kind: 'mount', path: '/mnt/x' });
    recorder.record({ kind: 'pg-slot', superuserUrl: 'postgresql://nowhere', slot: 's' });
    recorder.record({ kind: 'cgroup', path: '/sys/fs/cgroup/blkio/x' });
    const report = await cleanupDebris(runsDir, { undoers, callTimeoutMs: 1234 });
    expect(report.runs[0].actions.map((action) => [action.item.kind, action.outcome, action.detail])).toEqual([
      ['cgroup', 'failed', 'no undoer for debris of kind "cgroup" was given; it stays recorded'],
      ['pg-slot', 'failed', 'database exploded'],
      ['mount', 'absent', 'fake mount'],
      ['nft-table', 'undone', 'fake nft'],
    ]);
    expect(calls).toEqual(['mount /mnt/x 1234', 'nft t1']);
    expect(report.failed).toBe(2);
    expect(readStateFile(path.join(runsDir, 'run-x', 'state.json')).items.map((entry) => entry.item.kind)).toEqual(['pg-slot', 'cgroup']);
  });
});
