import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { createRng, uniformInt, type Rng } from './rng';
import type { HistoryEntry } from './history';
import { CompactHistoryDecoder, CompactHistoryEncoder, HISTORY_FILE, HistoryWriter, LEGACY_HISTORY_FILE, historyFileOf, readHistoryAll } from './history-file';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-history-file-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Entries of every shape the harness writes, plus the odd ones a plug-in might (extra fields, unrounded times, gaps in the index). */
function randomEntries(rng: Rng, count: number): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  let time = 0;
  let index = 0;
  for (let i = 0; i < count; i++) {
    time = Math.round((time + rng.next() * 20 - 1) * 1000) / 1000; // mostly forward, sometimes a little back (late batches)
    const bot = `bots-${uniformInt(rng, 1, 40)}`;
    const roll = rng.next();
    if (rng.next() < 0.01) index += uniformInt(rng, 2, 5); // an index gap
    const base = { index: index++, time };
    if (roll < 0.05) entries.push({ ...base, type: 'info', process: 'nemesis', f: rng.next() < 0.5 ? 'fault-start' : 'fault-stop', value: { id: 't1', fault: 'latency', target: 'bots-backend', params: { latency: 150 } } });
    else if (roll < 0.15) entries.push({ ...base, type: 'event', process: bot, player: bot, f: 'reconnected', value: { voluntary: true, resumeMs: 14.133 } });
    else {
      const type = (['invoke', 'ok', 'fail', 'info'] as const)[uniformInt(rng, 0, 3)];
      const op: Record<string, unknown> = { ...base, type, process: bot, player: rng.next() < 0.9 ? bot : `other-${uniformInt(rng, 1, 3)}`, f: rng.next() < 0.8 ? 'collect' : 'gift-send', seq: uniformInt(rng, 1, 500), intendedAt: Math.round((time - rng.next() * 30) * 1000) / 1000 };
      if (type === 'invoke') op.value = { kind: 'collect' };
      if (type === 'ok') Object.assign(op, { value: { outcome: 'applied', goldDelta: 12 }, version: uniformInt(rng, 1, 900), checksum: uniformInt(rng, 0, 2 ** 31).toString(16) });
      if (type === 'fail' || type === 'info') op.error = 'timeout after 10000 ms';
      if (rng.next() < 0.02) op.time = time + 1e-7; // not a whole µs: kept as it is
      if (rng.next() < 0.02) op.intendedAt = 0.1 + 0.2; // 0.30000000000000004
      if (rng.next() < 0.02) op.shard = { agent: 3 }; // a field the format does not know
      entries.push(op as unknown as HistoryEntry);
    }
  }
  return entries;
}

test('compact rows decode to exactly the entries encoded, whatever their shape', () => {
  const entries = randomEntries(createRng(17), 20_000);
  const encoder = new CompactHistoryEncoder();
  const decoder = new CompactHistoryDecoder();
  const lines = entries.map((entry) => encoder.encode(entry));
  expect(lines.map((line) => decoder.decode(JSON.parse(line)))).toEqual(entries);
  // The common case, an ok of a known bot at a whole µs, is a short row.
  expect(lines[lines.length - 1].length).toBeLessThan(JSON.stringify(entries[entries.length - 1]).length);
});

test('a run folder writes history.jsonl.gz, which zcat reads as a header and rows, and readHistory as the entries', async () => {
  const entries = randomEntries(createRng(3), 5000);
  const writer = new HistoryWriter(path.join(dir, HISTORY_FILE));
  writer.write(entries.slice(0, 2000));
  writer.flush();
  writer.write(entries.slice(2000));
  await writer.close();
  await writer.close(); // idempotent
  expect(historyFileOf(dir)).toBe(path.join(dir, HISTORY_FILE));
  expect(await readHistoryAll(dir)).toEqual(entries);
  const plain = zlib.gunzipSync(fs.readFileSync(path.join(dir, HISTORY_FILE))).toString('utf8').split('\n');
  expect(JSON.parse(plain[0])).toMatchObject({ lagstorm: 'history', encoding: 'compact-1' });
  expect(Array.isArray(JSON.parse(plain[1]))).toBe(true);
  // Much smaller than the same entries as plain JSON lines.
  const jsonlBytes = entries.reduce((sum, entry) => sum + JSON.stringify(entry).length + 1, 0);
  expect(fs.statSync(path.join(dir, HISTORY_FILE)).size * 4).toBeLessThan(jsonlBytes);
});

test("older runs' plain history.jsonl, and a gzipped one, still read", async () => {
  const entries = randomEntries(createRng(8), 300);
  const text = entries.map((entry) => JSON.stringify(entry)).join('\n') + '\n';
  fs.writeFileSync(path.join(dir, LEGACY_HISTORY_FILE), text);
  expect(await readHistoryAll(dir)).toEqual(entries);
  const gz = path.join(dir, 'old.jsonl.gz');
  fs.writeFileSync(gz, zlib.gzipSync(text));
  expect(await readHistoryAll(gz)).toEqual(entries);
});

test('a history cut off by a killed run, a corrupt row and a newer encoding are refused with the place and the fix', async () => {
  const file = path.join(dir, HISTORY_FILE);
  const writer = new HistoryWriter(file);
  writer.write(randomEntries(createRng(4), 3000));
  await writer.close();
  const whole = fs.readFileSync(file);
  const cut = path.join(dir, 'cut.jsonl.gz');
  fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  await expect(readHistoryAll(cut)).rejects.toThrow(/cut\.jsonl\.gz ends early \(the run was killed before its history was closed\): \d+ lines were readable/);

  const corrupt = path.join(dir, 'corrupt.jsonl.gz');
  fs.writeFileSync(corrupt, zlib.gzipSync('{"lagstorm":"history","encoding":"compact-1"}\n[0,"a","collect",5]\n[0,7,0,5]\n'));
  await expect(readHistoryAll(corrupt)).rejects.toThrow(/corrupt\.jsonl\.gz:3: string #7 used before it was defined/);

  const newer = path.join(dir, 'newer.jsonl.gz');
  fs.writeFileSync(newer, zlib.gzipSync('{"lagstorm":"history","encoding":"compact-9"}\n'));
  await expect(readHistoryAll(newer)).rejects.toThrow(/encoding "compact-9" is newer than this lagstorm reads \(compact-1\); upgrade lagstorm/);

  expect(() => historyFileOf(path.join(dir, 'nope'))).toThrow(/not found: pass a run folder/);
  fs.mkdirSync(path.join(dir, 'empty'));
  expect(() => historyFileOf(path.join(dir, 'empty'))).toThrow(/has no history\.jsonl\.gz \(nor an older run's history\.jsonl\): is it a run folder\?/);
});
