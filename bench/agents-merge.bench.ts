/**
 * The coordinator's merge: 4 agents × 5 000 bots stream their shards (ShardStream: a batch every
 * 250 ms of run time, gzipped as on the wire) into one coordinator (ShardIngest per agent, the
 * run's HistoryRecorder under the agents' watermark, history.jsonl.gz on disk). Measured: bytes
 * per operation on the wire, the coordinator's time to take and write them (decode + merge +
 * write, its CPU per operation), and its RSS growth over the input held in memory; the baseline in the same run is the same
 * operations appended straight to a recorder, as one process's fleet does. Median of the repeats.
 *
 * The history is synthetic: invoke + ok pairs of small actions, each bot acting about every
 * 2 s, times in µs as the bots write them.
 *
 *   node bin/run-ts.js bench/agents-merge.bench.ts [operations] [repeats]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { HistoryDraft } from '../bots/core/types';
import { HistoryRecorder } from '../bots/history/recorder';
import { ShardIngest } from '../agents/shard-ingest';
import { ShardStream } from '../agents/shard-stream';

const OPERATIONS = Number(process.argv[2] ?? 400_000);
const REPEATS = Number(process.argv[3] ?? 3);
const AGENTS = 4;
const BOTS_PER_AGENT = 5_000;
const BATCH_MS = 250;
const ACTIONS = ['collect', 'buy', 'gift-send', 'read'];

/** Agent a's entries in time order: each bot acts about every 2 s; an operation is invoke + ok. */
function shard(agent: number, operations: number): HistoryDraft[] {
  const entries: HistoryDraft[] = [];
  const seqs = new Array<number>(BOTS_PER_AGENT).fill(0);
  const spacing = 2000 / BOTS_PER_AGENT;
  for (let i = 0; i < operations; i++) {
    const bot = i % BOTS_PER_AGENT;
    const name = `players-${bot * AGENTS + agent + 1}`;
    const intendedAt = Math.round((i * spacing + agent * 0.1) * 1000) / 1000;
    const seq = ++seqs[bot];
    const f = ACTIONS[(bot + seq) % ACTIONS.length];
    entries.push({ type: 'invoke', process: name, player: name, f, seq, value: { n: seq % 7 }, intendedAt, time: intendedAt + 0.05 });
    entries.push({ type: 'ok', process: name, player: name, f, seq, value: { outcome: 'applied', goldDelta: (seq % 5) - 2 }, intendedAt, time: intendedAt + 1.234, version: seq, checksum: (seq * 2654435761).toString(16).slice(0, 14) });
  }
  return entries;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function once(shards: HistoryDraft[][], dir: string): Promise<{ mergeMs: number; cpuMicrosPerOp: number; wireBytesPerOp: number; diskBytesPerOp: number; peakRssMb: number; rssGrowthMb: number; baselineMs: number; baselineCpuMicrosPerOp: number }> {
  // The agents' side, done first: batches as they would come over the wire.
  const spanMs = Math.max(...shards.map((entries) => entries[entries.length - 1].time)) + 1;
  const wire: Array<Array<{ n: number; upTo: number; gz: Buffer }>> = shards.map((entries) => {
    let now = 0;
    const stream = new ShardStream({ now: () => now });
    const batches: Array<{ n: number; upTo: number; gz: Buffer }> = [];
    let next = 0;
    for (let t = BATCH_MS; t < spanMs + 2 * BATCH_MS; t += BATCH_MS) {
      while (next < entries.length && entries[next].time <= t) stream.append(entries[next++]);
      now = t;
      const batch = stream.cut();
      batches.push({ n: batch.n, upTo: batch.upTo, gz: zlib.gzipSync(batch.body) });
      stream.acknowledge(batch.n);
    }
    const last = stream.end();
    batches.push({ n: last.n, upTo: last.upTo, gz: zlib.gzipSync(last.body) });
    return batches;
  });
  const wireBytes = wire.flat().reduce((sum, batch) => sum + batch.gz.length, 0);

  // The coordinator: batches of all agents interleaved as they arrive, every 250 ms.
  const file = path.join(dir, 'merged.jsonl.gz');
  const ingests: ShardIngest[] = [];
  const rssBefore = process.memoryUsage().rss; // the generated shards and their batches: the input, not the coordinator
  let peakRss = rssBefore;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const recorder = new HistoryRecorder(file, { runStartEpochMs: Date.now() - 1e9, watermark: () => Math.min(...ingests.map((ingest) => ingest.upTo)), flushIntervalMs: 1e9 });
  for (let a = 0; a < AGENTS; a++) ingests.push(new ShardIngest((entries) => recorder.appendMany(entries)));
  const rounds = Math.max(...wire.map((batches) => batches.length));
  for (let r = 0; r < rounds; r++) {
    wire.forEach((batches, a) => {
      const batch = batches[r];
      if (batch) ingests[a].receive(batch.n, batch.upTo, zlib.gunzipSync(batch.gz).toString('utf8'));
    });
    recorder.flush(false);
    if (r % 20 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  await recorder.close();
  const mergeMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);

  // Baseline: the same entries appended straight to one recorder (the single-process fleet's path).
  const all = shards.flat();
  const baseCpu = process.cpuUsage();
  const baseStarted = process.hrtime.bigint();
  const base = new HistoryRecorder(path.join(dir, 'single.jsonl.gz'), { runStartEpochMs: Date.now() - 1e9, flushIntervalMs: 1e9 });
  base.appendMany(all);
  await base.close();
  const baselineMs = Number(process.hrtime.bigint() - baseStarted) / 1e6;
  const baseUsed = process.cpuUsage(baseCpu);

  const operations = all.length / 2;
  const result = {
    mergeMs: Math.round(mergeMs),
    cpuMicrosPerOp: +((used.user + used.system) / operations).toFixed(2),
    wireBytesPerOp: +(wireBytes / operations).toFixed(1),
    diskBytesPerOp: +(fs.statSync(file).size / operations).toFixed(1),
    peakRssMb: Math.round(peakRss / 1048576),
    rssGrowthMb: Math.round((peakRss - rssBefore) / 1048576),
    baselineMs: Math.round(baselineMs),
    baselineCpuMicrosPerOp: +((baseUsed.user + baseUsed.system) / operations).toFixed(2),
  };
  const merged = ingests.reduce((sum, ingest) => sum + ingest.entries, 0);
  if (merged !== all.length || recorder.count !== all.length) throw new Error(`merged ${merged} entries (recorder ${recorder.count}), expected ${all.length}`);
  return result;
}

async function main(): Promise<void> {
  const perAgent = Math.floor(OPERATIONS / AGENTS);
  const shards = Array.from({ length: AGENTS }, (_, a) => shard(a, perAgent));
  const runs: Array<Awaited<ReturnType<typeof once>>> = [];
  for (let i = 0; i < REPEATS; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-agents-bench-'));
    try {
      runs.push(await once(shards, dir));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    console.log(`run ${i + 1}: ${JSON.stringify(runs[runs.length - 1])}`);
  }
  const keys = Object.keys(runs[0]) as Array<keyof (typeof runs)[number]>;
  const result = {
    bench: 'agents-merge',
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, loadAverage: os.loadavg().map((load) => +load.toFixed(2)) },
    agents: AGENTS,
    botsPerAgent: BOTS_PER_AGENT,
    operations: perAgent * AGENTS,
    batchMs: BATCH_MS,
    repeats: REPEATS,
    median: Object.fromEntries(keys.map((key) => [key, median(runs.map((run) => run[key]))])),
    runs,
  };
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'agents-merge.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result.median));
}

void main();
