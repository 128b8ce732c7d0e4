import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HistoryDraft } from '../core/types';
import { epochNowMs } from '../../core/clock';
import { HistoryRecorder, readHistory, readHistoryAll } from './recorder';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-history-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const op = (process: string, time: number, type: 'invoke' | 'ok' = 'invoke'): HistoryDraft => ({ type, process, player: process, f: 'collect', seq: 1, intendedAt: time, time });

test('entries from several sources land in time order with a global index', async () => {
  const file = path.join(dir, 'history.jsonl.gz');
  const recorder = new HistoryRecorder(file, { runStartEpochMs: epochNowMs() - 10_000 });
  recorder.appendMany([op('a', 5), op('a', 9, 'ok')]);
  recorder.append(op('b', 3)); // a later batch from another worker with an earlier time
  recorder.append({ type: 'info', process: 'nemesis', f: 'fault-start', time: 4, value: { id: 'f1', fault: 'latency', target: 'bots-backend', params: {} } });
  await recorder.close();
  const entries = await readHistoryAll(file);
  expect(entries.map((e) => e.index)).toEqual([0, 1, 2, 3]);
  expect(entries.map((e) => e.time)).toEqual([3, 4, 5, 9]);
  expect(entries.map((e) => e.process)).toEqual(['b', 'nemesis', 'a', 'a']);
  expect(() => recorder.append(op('c', 1))).toThrow(/closed/);
});

test('periodic flushes keep young entries back for the reorder window, then continue the index', async () => {
  const file = path.join(dir, 'history.jsonl');
  // Plain JSON lines, so the file shows each partial flush at once (gzip writes land asynchronously).
  // The recorder's clock (epochNowMs) can lag Date.now() by tens of ms here: start on its own clock.
  const recorder = new HistoryRecorder(file, { runStartEpochMs: epochNowMs(), reorderWindowMs: 60_000, encoding: 'jsonl' });
  expect(recorder.now()).toBeGreaterThanOrEqual(0);
  recorder.append(op('a', -1)); // older than the window: written on a partial flush
  recorder.append(op('a', recorder.now()));
  recorder.flush(false);
  expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  recorder.append(op('b', -0.5));
  await recorder.close();
  const seen: number[] = [];
  for await (const entry of readHistory(file)) seen.push(entry.index);
  expect(seen).toEqual([0, 1, 2]);
  expect(recorder.count).toBe(3);
});

test('a corrupt line is reported with its line number', async () => {
  const file = path.join(dir, 'bad.jsonl');
  fs.writeFileSync(file, '{"index":0}\nnot json\n');
  await expect(readHistoryAll(file)).rejects.toThrow(/bad\.jsonl:2: not a JSON history entry/);
});
