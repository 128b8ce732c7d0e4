/**
 * History size and cost: bytes per operation on disk and on the wire, the writer's CPU per
 * operation, and the time to read 1 000 000 operations back, for the plain JSON lines runs wrote
 * before (the baseline, measured in the same run) and the compact gzip stream they write now.
 *
 * Write CPU is the whole process's (zlib works on libuv's thread pool); `writeCallMicrosPerOp` is
 * the time inside write() + flush(), what the recorder's own thread pays. Reads stream the file in
 * batches (readHistoryBatches, as the verdict's readHistoryAll does) without keeping the entries.
 *
 * The history is synthetic but shaped like a real run's: the reference game's rules and checksums
 * (games/reference/rules), bots named like scenario groups, times in µs as the recorder writes
 * them, session events, two fault windows, a few fail/info outcomes. It is written the way the
 * recorder writes it: a batch (and a gzip sync flush) every 200 ms of run time. A block of
 * 100 000 operations is generated once and written ten times with shifted times and indexes (far
 * outside gzip's 32 KB window, so the repetition does not flatter compression).
 *
 *   node bin/run-ts.js bench/history.bench.ts [operations] [repeats]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { BotEvent, ClientOp, HistoryEntry, NemesisOp } from '../core/history';
import { CompactHistoryEncoder, HistoryWriter, readHistoryBatches, type HistoryEncoding } from '../core/history-file';
import { applyAction, ITEM_NAMES, newPlayer, type Action, type PlayerState } from '../games/reference/rules/model';
import { checksum } from '../games/reference/rules/checksum';
import { fixedRng } from './fixed-rng';

const OPERATIONS = Number(process.argv[2] ?? 1_000_000);
const REPEATS = Number(process.argv[3] ?? 3);
const BLOCK_OPERATIONS = Math.min(100_000, OPERATIONS);
const BOTS = 2_000;
const FLUSH_MS = 200; // the recorder's flush interval
const GROUPS = ['casual', 'grinders', 'gifters', 'churners'];

const us = (ms: number): number => Math.round(ms * 1000) / 1000;
type Draft = Omit<ClientOp, 'index'> | Omit<NemesisOp, 'index'> | Omit<BotEvent, 'index'>;

/** One block: `operations` actions of BOTS bots, as invoke + completion pairs, plus sessions and faults. */
function generateBlock(operations: number): { entries: Draft[]; spanMs: number } {
  const random = fixedRng(7);
  const names = Array.from({ length: BOTS }, (_, i) => `${GROUPS[i % GROUPS.length]}-${Math.floor(i / GROUPS.length) + 1}`);
  const states: PlayerState[] = names.map((name) => newPlayer(name));
  const drafts: Draft[] = [];
  names.forEach((name, i) => {
    drafts.push({ type: 'event', process: name, player: name, f: 'session-start', time: us(i * 0.37 + random()), value: { url: 'ws://127.0.0.1:41195', profile: GROUPS[i % GROUPS.length], intendedAt: 0 } });
  });
  const perRound = BOTS;
  const rounds = Math.ceil(operations / perRound);
  const roundMs = 100;
  const spanMs = rounds * roundMs + 50;
  for (const [id, start, stop] of [['t1', 0.3, 0.4], ['t2', 0.6, 0.65]] as const) {
    const value = { id, fault: 'latency', target: 'bots-backend', params: { link: 'bots-backend', latency: 150, jitter: 50 } };
    drafts.push({ type: 'info', process: 'nemesis', f: 'fault-start', time: Math.round(spanMs * start), value });
    drafts.push({ type: 'info', process: 'nemesis', f: 'fault-stop', time: Math.round(spanMs * stop), value });
  }
  let done = 0;
  for (let round = 0; round < rounds && done < operations; round++) {
    for (let i = 0; i < perRound && done < operations; i++, done++) {
      const name = names[i];
      const roll = random();
      let action: Action;
      if (roll < 0.5) action = { kind: 'collect' };
      else if (roll < 0.7) action = { kind: 'buy', item: ITEM_NAMES[Math.floor(random() * ITEM_NAMES.length)] };
      else if (roll < 0.8) action = { kind: 'upgrade' };
      else action = { kind: 'gift-send', to: names[Math.floor(random() * BOTS)], amount: 1 + Math.floor(random() * 40) };
      const seq = states[i].lastSeq + 1;
      const intendedAt = us(round * roundMs + i * 0.049 + random() * 20);
      const sent = us(intendedAt + random() * 0.8);
      const done_ = us(sent + 1 + random() * (random() < 0.05 ? 300 : 12));
      const common = { process: name, player: name, f: action.kind, seq };
      drafts.push({ type: 'invoke', ...common, value: action, intendedAt, time: sent });
      const outcome = random();
      if (outcome < 0.004) {
        drafts.push({ type: 'info', ...common, intendedAt, time: us(sent + 10_000), error: 'no answer within 10000 ms' });
        continue;
      }
      const applied = applyAction(states[i], action, seq);
      states[i] = applied.state;
      drafts.push({ type: 'ok', ...common, value: applied.result, intendedAt, time: done_, version: applied.state.version, checksum: checksum(applied.state) });
    }
  }
  drafts.sort((a, b) => a.time - b.time);
  return { entries: drafts, spanMs };
}

type Variant = { name: string; encoding: HistoryEncoding | 'jsonl-gzip'; level?: number };
const VARIANTS: Variant[] = [
  { name: 'jsonl (before)', encoding: 'jsonl' },
  { name: 'jsonl + gzip', encoding: 'jsonl-gzip', level: 6 },
  { name: 'compact + gzip (now)', encoding: 'compact-gzip', level: 6 },
  { name: 'compact + gzip level 1', encoding: 'compact-gzip', level: 1 },
];

/** Only for comparison: plain JSON lines through the same gzip stream, flushed the same way. */
class JsonlGzipWriter {
  private readonly gzip: zlib.Gzip;
  private readonly file: fs.WriteStream;
  constructor(file: string, level: number) {
    this.gzip = zlib.createGzip({ level });
    this.file = fs.createWriteStream(file);
    this.gzip.pipe(this.file);
  }
  write(entries: readonly HistoryEntry[]): void {
    let chunk = '';
    for (const entry of entries) chunk += JSON.stringify(entry) + '\n';
    this.gzip.write(chunk);
  }
  flush(): void {
    this.gzip.flush(zlib.constants.Z_SYNC_FLUSH);
  }
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.file.once('close', () => resolve());
      this.gzip.end();
    });
  }
}

/** Writes `blocks` copies of the block as the recorder would: batches of FLUSH_MS of run time, a flush after each. */
async function writeHistory(file: string, variant: Variant, block: ReturnType<typeof generateBlock>, blocks: number): Promise<{ cpuMicros: number; callMicros: number; wallMs: number; operations: number }> {
  const writer = variant.encoding === 'jsonl-gzip' ? new JsonlGzipWriter(file, variant.level ?? 6) : new HistoryWriter(file, { encoding: variant.encoding, level: variant.level });
  const cpu = process.cpuUsage();
  const wall = performance.now();
  let index = 0;
  let operations = 0;
  let callMs = 0; // time inside write()+flush(): what the recorder's thread pays
  const put = (batch: HistoryEntry[]): void => {
    const started = performance.now();
    writer.write(batch);
    writer.flush();
    callMs += performance.now() - started;
  };
  for (let b = 0; b < blocks; b++) {
    const offset = b * block.spanMs;
    let batch: HistoryEntry[] = [];
    let batchEnd = offset + FLUSH_MS;
    for (const draft of block.entries) {
      const time = us(draft.time + offset);
      if (time >= batchEnd) {
        put(batch);
        batch = [];
        while (time >= batchEnd) batchEnd += FLUSH_MS;
      }
      const entry = { index: index++, ...draft, time } as HistoryEntry;
      if ('intendedAt' in draft) (entry as { intendedAt: number }).intendedAt = us((draft as { intendedAt: number }).intendedAt + offset);
      if (entry.type === 'invoke') operations += 1;
      batch.push(entry);
    }
    put(batch);
  }
  await writer.close();
  const used = process.cpuUsage(cpu);
  return { cpuMicros: used.user + used.system, callMicros: callMs * 1000, wallMs: performance.now() - wall, operations };
}

async function readAll(file: string): Promise<{ seconds: number; entries: number }> {
  const started = performance.now();
  let entries = 0;
  for await (const batch of readHistoryBatches(file)) for (const entry of batch) if (entry.index >= 0) entries += 1;
  return { seconds: (performance.now() - started) / 1000, entries };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const block = generateBlock(BLOCK_OPERATIONS);
  const blocks = Math.ceil(OPERATIONS / BLOCK_OPERATIONS);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-history-bench-'));
  try {
    const results: Record<string, { bytesPerOp: number; fileBytes: number; writeCpuMicrosPerOp: number; writeCallMicrosPerOp: number; writeWallMs: number; readSeconds: number; readOpsPerSecond: number }> = {};
    let operations = 0;
    let entries = 0;
    for (const variant of VARIANTS) {
      const file = path.join(dir, `${variant.name.replace(/\W+/g, '-')}.history`);
      const writes: Array<{ cpuMicros: number; callMicros: number; wallMs: number }> = [];
      const reads: number[] = [];
      for (let r = 0; r < REPEATS; r++) {
        fs.rmSync(file, { force: true });
        const written = await writeHistory(file, variant, block, blocks);
        operations = written.operations;
        writes.push(written);
        const read = await readAll(file);
        entries = read.entries;
        reads.push(read.seconds);
      }
      const fileBytes = fs.statSync(file).size;
      results[variant.name] = {
        bytesPerOp: round(fileBytes / operations),
        fileBytes,
        writeCpuMicrosPerOp: round(median(writes.map((w) => w.cpuMicros)) / operations),
        writeCallMicrosPerOp: round(median(writes.map((w) => w.callMicros)) / operations),
        writeWallMs: round(median(writes.map((w) => w.wallMs)), 0),
        readSeconds: round(median(reads), 3),
        readOpsPerSecond: Math.round(operations / median(reads)),
      };
      fs.rmSync(file, { force: true });
      const r = results[variant.name];
      console.log(`${variant.name}: ${r.bytesPerOp} B/op, write ${r.writeCpuMicrosPerOp} µs CPU/op (${r.writeCallMicrosPerOp} µs in the writer's thread), read ${r.readSeconds} s`);
    }
    // On the wire an agent would send the same stream: one batch and a sync flush per 200 ms; before, the plain lines.
    const encoder = new CompactHistoryEncoder();
    const sample = block.entries.slice(0, 2000).map((draft, index) => ({ index, ...draft }) as HistoryEntry);
    const rowBytes = sample.reduce((sum, entry) => sum + encoder.encode(entry).length + 1, 0) / sample.length;
    const jsonBytes = sample.reduce((sum, entry) => sum + JSON.stringify(entry).length + 1, 0) / sample.length;
    const before = results['jsonl (before)'];
    const now = results['compact + gzip (now)'];
    const summary = {
      benchmark: 'history',
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim(),
      loadAverage: os.loadavg().map((n) => round(n)),
      operations,
      entries,
      bots: BOTS,
      repeats: REPEATS,
      flushEveryMs: FLUSH_MS,
      bytesPerEntryUncompressed: { jsonl: round(jsonBytes), compactRow: round(rowBytes) },
      variants: results,
      wire: {
        note: 'what an agent would stream: the same gzip stream with a sync flush per 200 ms batch (before: the plain lines)',
        bytesPerOpBefore: before.bytesPerOp,
        bytesPerOpNow: now.bytesPerOp,
      },
      ratios: {
        diskBytesBeforeOverNow: round(before.bytesPerOp / now.bytesPerOp, 1),
        writeCpuNowOverBefore: round(now.writeCpuMicrosPerOp / before.writeCpuMicrosPerOp),
        writerThreadNowOverBefore: round(now.writeCallMicrosPerOp / before.writeCallMicrosPerOp),
        readTimeNowOverBefore: round(now.readSeconds / before.readSeconds),
      },
    };
    const out = path.join(__dirname, 'results', 'history.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');
    console.log(JSON.stringify(summary.ratios));
    console.log(`wrote ${out}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
