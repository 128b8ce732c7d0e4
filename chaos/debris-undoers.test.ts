/**
 * `lagstorm cleanup` with the fault families' undoers (the composition the CLI uses), on real
 * objects: a Toxiproxy-shaped endpoint, nft tables, loop devices, blkio throttles, PostgreSQL.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startPostgres, type PostgresCluster } from '../stack/postgres';
import { cleanupDebris, readStateFile, StateFileRecorder, type StateFileOwner } from '../stack/state-file';
import { debrisUndoers } from './debris-undoers';

async function deadOwner(): Promise<StateFileOwner> {
  const child = spawn('true');
  const pid = child.pid!;
  await new Promise((resolve) => child.once('exit', resolve));
  return { pid, startTime: '1' };
}

describe('cleanupDebris with the fault families\' undoers', () => {
  let runsDir: string;

  beforeEach(() => {
    runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-undoers-test-'));
  });
  afterEach(() => {
    fs.rmSync(runsDir, { recursive: true, force: true });
  });

  it('has an undoer for every kind a fault records', () => {
    expect(Object.keys(debrisUndoers).sort()).toEqual(['blkio-throttle', 'cgroup', 'loop-device', 'mount', 'nft-table', 'pg-setting', 'pg-slot', 'toxiproxy-reset']);
  });

  it('finds nothing left of things already gone', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const recorder = new StateFileRecorder(path.join(runsDir, 'run-a', 'state.json'), 'run-a', await deadOwner());
    recorder.record({ kind: 'toxiproxy-reset', apiUrl: `http://127.0.0.1:${closedPort}` });
    recorder.record({ kind: 'mount', path: path.join(runsDir, 'never-mounted') });
    recorder.record({ kind: 'cgroup', path: '/sys/fs/cgroup/lagstorm-test-no-such-group' });
    recorder.record({ kind: 'cgroup', path: '/etc' });
    const report = await cleanupDebris(runsDir, { undoers: debrisUndoers });
    expect(report.runs[0].actions.map((action) => [action.item.kind, action.outcome])).toEqual([
      ['cgroup', 'failed'],
      ['cgroup', 'absent'],
      ['mount', 'absent'],
      ['toxiproxy-reset', 'absent'],
    ]);
    expect(report.runs[0].actions[0].detail).toMatch(/not under \/sys\/fs\/cgroup/);
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
      const report = await cleanupDebris(runsDir, { undoers: debrisUndoers });
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
        const report = await cleanupDebris(runsDir, { undoers: debrisUndoers });
        expect(report.runs[0].actions.map((action) => action.outcome)).toEqual(['undone']);
        expect(execFileSync('nft', ['list', 'tables']).toString()).not.toContain(table);
        expect((await cleanupDebris(runsDir, { undoers: debrisUndoers, force: true })).runs[0].actions).toEqual([]);
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
        const first = await cleanupDebris(runsDir, { undoers: debrisUndoers });
        expect(first.runs[0].actions[0]).toMatchObject({ outcome: 'skipped' });
        expect(fs.existsSync(`/sys/block/${path.basename(device)}/loop/backing_file`)).toBe(true);

        recorder.record({ kind: 'loop-device', device, backingFile: backing });
        const second = await cleanupDebris(runsDir, { undoers: debrisUndoers });
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
        const report = await cleanupDebris(runsDir, { undoers: debrisUndoers });
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
        const report = await cleanupDebris(runsDir, { undoers: debrisUndoers });
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
