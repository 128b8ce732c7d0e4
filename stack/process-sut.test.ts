import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DebrisRecorder } from './debris';
import { ManagedProcess, readProcStat } from './managed-process';
import { PROCESS_RUNTIME_CAPABILITIES, processServiceControl, processSystemUnderTest } from './process-sut';

const noDebris: DebrisRecorder = { record: () => '1', forget: () => undefined, list: () => [] };

const state = (pid: number) => readProcStat(pid)?.state;

function childrenOf(pid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((candidate) => {
      try {
        const stat = fs.readFileSync(`/proc/${candidate}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    });
}

describe('process runtime SystemUnderTest', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-sut-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('offers only the capabilities of the parts it has', () => {
    const backend = Object.assign(new ManagedProcess({ name: 'backend', command: 'true', args: [], logFile: path.join(dir, 'b.log'), healthCheck: async () => true }), { wsPort: 4242 });
    const sut = processSystemUnderTest({ runId: 'r', workDir: dir, debris: noDebris, backend, links: {} });
    expect([...sut.capabilities].sort()).toEqual(['host:blkio', 'host:loop-volume', 'host:nft', 'service:backend:kill', 'service:backend:pause', 'service:backend:start', 'service:backend:stop']);
    expect(sut.capabilities.has('database:sql')).toBe(false);
    expect(() => sut.database.superuserUrl).toThrow(/no database/);
    expect(sut.host.portOf('backend')).toBe(4242);
    expect(sut.host.portOf('postgres')).toBeUndefined();
    expect(PROCESS_RUNTIME_CAPABILITIES).toEqual(expect.arrayContaining(['service:postgres:pause', 'database:wal-dir', 'link:backend-db', 'host:nft']));
  });

  it('pause freezes every process of the service (its process group), resume thaws them, kill ends it', async () => {
    const part = new ManagedProcess({ name: 'pair', command: 'sh', args: ['-c', 'sleep 60 & sleep 60'], logFile: path.join(dir, 'pair.log'), healthCheck: async () => true });
    await part.start();
    const control = processServiceControl(part, { name: 'pair' });
    const leader = part.pid as number;
    try {
      let children: number[] = [];
      for (let i = 0; i < 40 && children.length < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        children = childrenOf(leader);
      }
      expect(children).toHaveLength(2);
      expect(control.instance()).toBe(`pid ${leader}`);
      await control.pause();
      expect([leader, ...children].map(state)).toEqual(['T', 'T', 'T']);
      await control.resume();
      expect([leader, ...children].map(state).filter((s) => s === 'T')).toEqual([]);
      await control.pause();
      await control.kill(); // a frozen service still dies
      expect(control.isRunning()).toBe(false);
      expect(control.instance()).toBeUndefined();
    } finally {
      await part.stop('SIGKILL');
      try {
        process.kill(-leader, 'SIGKILL'); // the sleeps outlive their shell
      } catch {
        // the group is gone
      }
    }
  });
});
