import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { processStartTime } from './managed-process';
import { freePort } from './ports';
import { startPostgres, type PostgresCluster } from './postgres';
import { cleanupDebris, readStateFile, StateFileRecorder, type StateFileOwner } from './state-file';

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

  it('undoes a dead run in reverse order, reports it, and is idempotent', async () => {
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
    const report = await cleanupDebris(runsDir, { killTimeoutMs: 3000, log: (line) => lines.push(line) });
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

    const again = await cleanupDebris(runsDir);
    expect(again.runs[0].actions).toEqual([]);
  });

  it('never kills a process whose pid now belongs to someone else', async () => {
    const bystander = startSleeper();
    const pid = bystander.pid!;
    const recorder = new StateFileRecorder(path.join(runsDir, 'run-b', 'state.json'), 'run-b', await deadOwner());
    recorder.record({ kind: 'process', name: 'old-backend', pid, startTime: String(Number(processStartTime(pid)) - 1) });
    recorder.record({ kind: 'process', name: 'unknown-start', pid });

    const report = await cleanupDebris(runsDir, { killTimeoutMs: 500 });
    expect(report.runs[0].actions.map((action) => action.outcome)).toEqual(['skipped', 'skipped']);
    expect(report.runs[0].actions[1].detail).toMatch(/now belongs to another process/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isAlive(pid)).toBe(true);
  });

  it('leaves a run alone while its lagstorm process lives, unless forced', async () => {
    const sleeper = startSleeper();
    const recorder = new StateFileRecorder(path.join(runsDir, 'run-c', 'state.json'), 'run-c'); // owner: this live process
    recorder.record({ kind: 'process', name: 'sleeper', pid: sleeper.pid!, startTime: processStartTime(sleeper.pid!) });

    const polite = await cleanupDebris(runsDir);
    expect(polite.runs[0].skipped).toMatch(/still runs this run/);
    expect(isAlive(sleeper.pid!)).toBe(true);

    const forced = await cleanupDebris(runsDir, { force: true, killTimeoutMs: 3000 });
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

    const report = await cleanupDebris(runsDir, { killTimeoutMs: 400 });
    const [stoppedAction, stubbornAction] = report.runs[0].actions;
    expect(stoppedAction).toMatchObject({ outcome: 'undone', detail: 'stopped with SIGTERM' });
    expect(stubbornAction).toMatchObject({ outcome: 'undone', detail: expect.stringMatching(/SIGKILL/) });
    expect(isAlive(stubborn.pid!)).toBe(false);
    expect(isAlive(stopped.pid!)).toBe(false);
  });

  it('resets a real toxiproxy-shaped endpoint and keeps an item it could not undo', async () => {
    const resets: string[] = [];
    const server = net.createServer(); // a minimal HTTP server: answers POST /reset with 204
    server.on('connection', (socket) =>
      socket.once('data', (data) => {
        resets.push(data.toString().split('\r\n')[0]);
        socket.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const recorder = new StateFileRecorder(path.join(runsDir, 'run-e', 'state.json'), 'run-e', await deadOwner());
      recorder.record({ kind: 'toxiproxy-reset', apiUrl: `http://127.0.0.1:${port}` });
      recorder.record({ kind: 'dir', path: '/' });
      const report = await cleanupDebris(runsDir);
      expect(resets).toEqual(['POST /reset HTTP/1.1']);
      expect(report.runs[0].actions.map((action) => action.outcome)).toEqual(['failed', 'undone']);
      expect(report.failed).toBe(1);
      expect(readStateFile(path.join(runsDir, 'run-e', 'state.json')).items.map((entry) => entry.item)).toEqual([{ kind: 'dir', path: '/' }]);
    } finally {
      server.close();
    }
  });

  describe('with root-only kernel objects', () => {
    const isRoot = process.getuid?.() === 0;
    const nftWorks = isRoot && (() => {
      try {
        execFileSync('nft', ['list', 'tables'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    (nftWorks ? it : it.skip)('deletes an nft table', async () => {
      const table = `lagstorm_cleanup_test_${process.pid}`;
      execFileSync('nft', ['add', 'table', 'inet', table]);
      try {
        const recorder = new StateFileRecorder(path.join(runsDir, 'run-f', 'state.json'), 'run-f', await deadOwner());
        recorder.record({ kind: 'nft-table', family: 'inet', table });
        const report = await cleanupDebris(runsDir);
        expect(report.runs[0].actions.map((action) => action.outcome)).toEqual(['undone']);
        expect(execFileSync('nft', ['list', 'tables']).toString()).not.toContain(table);
        expect((await cleanupDebris(runsDir, { force: true })).runs[0].actions).toEqual([]);
      } finally {
        try {
          execFileSync('nft', ['delete', 'table', 'inet', table], { stdio: 'ignore' });
        } catch {
          // deleted by the test
        }
      }
    });

    const losetupWorks = isRoot && fs.existsSync('/dev/loop-control');
    (losetupWorks ? it : it.skip)('detaches a loop device only while it backs the recorded file', async () => {
      const backing = path.join(runsDir, 'disk.img');
      fs.writeFileSync(backing, Buffer.alloc(1024 * 1024));
      const device = execFileSync('losetup', ['-f', '--show', backing]).toString().trim();
      try {
        const recorder = new StateFileRecorder(path.join(runsDir, 'run-g', 'state.json'), 'run-g', await deadOwner());
        recorder.record({ kind: 'loop-device', device, backingFile: path.join(runsDir, 'other.img') });
        const first = await cleanupDebris(runsDir);
        expect(first.runs[0].actions[0]).toMatchObject({ outcome: 'skipped' });
        expect(fs.existsSync(`/sys/block/${path.basename(device)}/loop/backing_file`)).toBe(true);

        recorder.record({ kind: 'loop-device', device, backingFile: backing });
        const second = await cleanupDebris(runsDir);
        expect(second.runs[0].actions[0]).toMatchObject({ outcome: 'undone' });
        expect(fs.existsSync(`/sys/block/${path.basename(device)}/loop/backing_file`)).toBe(false);
      } finally {
        try {
          execFileSync('losetup', ['-d', device], { stdio: 'ignore' });
        } catch {
          // detached by the test
        }
      }
    });

    const blkioWorks = isRoot && fs.existsSync('/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device');
    (blkioWorks ? it : it.skip)('clears a blkio throttle, then removes its cgroup', async () => {
      const cgroupDir = `/sys/fs/cgroup/blkio/lagstorm-cleanup-test-${process.pid}`;
      const device = fs.readFileSync('/proc/partitions', 'utf8').split('\n').map((line) => line.trim().split(/\s+/)).find((fields) => /^\d+$/.test(fields[0] ?? ''))!;
      const majorMinor = `${device[0]}:${device[1]}`;
      fs.mkdirSync(cgroupDir);
      try {
        fs.writeFileSync(path.join(cgroupDir, 'blkio.throttle.write_bps_device'), `${majorMinor} 1048576`);
        expect(fs.readFileSync(path.join(cgroupDir, 'blkio.throttle.write_bps_device'), 'utf8')).toContain(`${majorMinor} 1048576`);
        const recorder = new StateFileRecorder(path.join(runsDir, 'run-i', 'state.json'), 'run-i', await deadOwner());
        recorder.record({ kind: 'cgroup', path: cgroupDir });
        recorder.record({ kind: 'blkio-throttle', cgroupDir, device: majorMinor });
        const report = await cleanupDebris(runsDir);
        expect(report.runs[0].actions.map((action) => [action.item.kind, action.outcome, action.detail])).toEqual([
          ['blkio-throttle', 'undone', 'cleared blkio.throttle.write_bps_device'],
          ['cgroup', 'undone', 'removed'],
        ]);
        expect(fs.existsSync(cgroupDir)).toBe(false);
      } finally {
        if (fs.existsSync(cgroupDir)) fs.rmdirSync(cgroupDir);
      }
    });
  });

  describe('with a real PostgreSQL', () => {
    let cluster: PostgresCluster | undefined;
    let pgDir: string;
    beforeAll(async () => {
      pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-cleanup-pg-'));
      cluster = await startPostgres({ baseDir: path.join(pgDir, 'pg'), logFile: path.join(pgDir, 'pg.log'), settings: { max_wal_senders: '4' } });
    });
    afterAll(async () => {
      await cluster?.stopWithMode('fast');
      fs.rmSync(pgDir, { recursive: true, force: true });
    });

    it('drops a replication slot and resets an ALTER SYSTEM setting', async () => {
      const url = cluster!.superuserUrl;
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query("SELECT pg_create_physical_replication_slot('lagstorm_stuck', true)");
        await client.query("ALTER SYSTEM SET checkpoint_timeout = '31s'");
        await client.query('SELECT pg_reload_conf()');
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect((await client.query('SHOW checkpoint_timeout')).rows[0].checkpoint_timeout).toBe('31s');

        const recorder = new StateFileRecorder(path.join(runsDir, 'run-h', 'state.json'), 'run-h', await deadOwner());
        recorder.record({ kind: 'pg-slot', superuserUrl: url, slot: 'lagstorm_stuck' });
        recorder.record({ kind: 'pg-setting', superuserUrl: url, setting: 'checkpoint_timeout' });
        recorder.record({ kind: 'pg-setting', superuserUrl: url, setting: 'bad; DROP TABLE x' });
        const report = await cleanupDebris(runsDir);
        expect(report.runs[0].actions.map((action) => [action.item.kind, action.outcome])).toEqual([
          ['pg-setting', 'failed'],
          ['pg-setting', 'undone'],
          ['pg-slot', 'undone'],
        ]);
        await new Promise((resolve) => setTimeout(resolve, 300)); // the reload is asynchronous
        expect((await client.query('SHOW checkpoint_timeout')).rows[0].checkpoint_timeout).toBe('5min');
        expect((await client.query('SELECT count(*)::int AS n FROM pg_replication_slots')).rows[0].n).toBe(0);
      } finally {
        await client.end();
      }
    });
  });
});
