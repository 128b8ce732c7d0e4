import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readStateFile, StateFileRecorder } from './state-file';

describe('StateFileRecorder', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-state-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes every record and forget at once, with the owning pid, by replacing the file', () => {
    const file = path.join(dir, 'run-1', 'state.json');
    const recorder = new StateFileRecorder(file, 'run-1');
    expect(readStateFile(file)).toMatchObject({ version: 1, runId: 'run-1', owner: { pid: process.pid }, items: [] });
    expect(readStateFile(file).owner.startTime).toMatch(/^\d+$/);

    // A reader holding the old file keeps seeing it whole: the write puts a new file in place (rename).
    const oldFile = fs.openSync(file, 'r');
    const dirId = recorder.record({ kind: 'dir', path: '/tmp/x' });
    expect(fs.fstatSync(oldFile).ino).not.toBe(fs.statSync(file).ino);
    expect(JSON.parse(fs.readFileSync(oldFile, 'utf8')).items).toEqual([]);
    fs.closeSync(oldFile);
    const tableId = recorder.record({ kind: 'nft-table', family: 'inet', table: 'lagstorm_t' });
    expect(readStateFile(file).items).toEqual([
      { id: dirId, item: { kind: 'dir', path: '/tmp/x' } },
      { id: tableId, item: { kind: 'nft-table', family: 'inet', table: 'lagstorm_t' } },
    ]);

    recorder.forget(dirId);
    expect(readStateFile(file).items.map((entry) => entry.id)).toEqual([tableId]);
    recorder.forget('no-such-id');
    expect(recorder.list()).toHaveLength(1);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['state.json']); // no temp files left
  });

  it('continues an existing file with fresh ids', () => {
    const file = path.join(dir, 'state.json');
    const first = new StateFileRecorder(file, 'r');
    const a = first.record({ kind: 'dir', path: '/tmp/a' });
    const reopened = StateFileRecorder.open(file);
    const b = reopened.record({ kind: 'dir', path: '/tmp/b' });
    expect(b).not.toBe(a);
    expect(readStateFile(file).items.map((entry) => entry.item)).toEqual([
      { kind: 'dir', path: '/tmp/a' },
      { kind: 'dir', path: '/tmp/b' },
    ]);
  });

  it('rejects a malformed state file naming the bad field', () => {
    const file = path.join(dir, 'state.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, runId: 'r', owner: { pid: 'x' }, items: [] }));
    expect(() => readStateFile(file)).toThrow(/owner\.pid must be a number/);
    fs.writeFileSync(file, JSON.stringify({ version: 1, runId: 'r', owner: { pid: 1 }, items: [{ id: 1 }] }));
    expect(() => readStateFile(file)).toThrow(/items\[0\]/);
  });

  it('never shows a concurrent reader a partial file', async () => {
    const file = path.join(dir, 'state.json');
    const recorder = new StateFileRecorder(file, 'r');
    // Big items make a torn write likely if writes were not atomic.
    const bigPath = `/tmp/${'x'.repeat(20_000)}`;
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); let bad = 0, reads = 0; const end = Date.now() + 1500;
         process.stdout.write('ready\\n');
         while (Date.now() < end) { reads++; try { JSON.parse(fs.readFileSync(${JSON.stringify(file)}, 'utf8')); } catch { bad++; } }
         process.stdout.write(JSON.stringify({ bad, reads }) + '\\n');`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    reader.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => reader.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!output.includes('ready') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    let writes = 0;
    let readerDone = false;
    void exited.then(() => (readerDone = true));
    while (!readerDone && Date.now() < deadline) {
      for (let i = 0; i < 20; i++) {
        const id = recorder.record({ kind: 'dir', path: bigPath });
        recorder.forget(id);
        writes += 2;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await exited;
    const result = JSON.parse(output.split('\n').filter(Boolean).pop() ?? '{}') as { bad: number; reads: number };
    expect(writes).toBeGreaterThan(50);
    expect(result.reads).toBeGreaterThan(50);
    expect(result.bad).toBe(0);
  });
});
