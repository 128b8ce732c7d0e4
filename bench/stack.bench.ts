/**
 * Stack start and teardown time per runtime: `process` (local processes) and `containers`
 * (lagstorm's images on host networking, cached), each started and stopped BENCH_RUNS times
 * (default 5) in turn, so both see the same machine load. Start = runtime.start() until every part
 * is ready; teardown = stack.stop() until everything is removed.
 *
 *   node bin/run-ts.js bench/stack.bench.ts        (env BENCH_RUNS=5, BENCH_RUNTIMES=process,containers)
 *
 * Results: bench/results/stack.json (median, min, max in ms).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getRuntime } from '../stack/runtimes';
import type { RuntimeName } from '../stack/types';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const RUNTIMES = (process.env.BENCH_RUNTIMES ?? 'process,containers').split(',') as RuntimeName[];
const OUT = path.resolve(__dirname, 'results', 'stack.json');

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-stack-bench-'));
  const samples: Record<string, { start: number[]; stop: number[] }> = Object.fromEntries(RUNTIMES.map((name) => [name, { start: [], stop: [] }]));
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const name of RUNTIMES) {
        const runId = `bench-${name}-${run}-${process.pid}`;
        const began = performance.now();
        const stack = await getRuntime(name).start({ runId, runDir: path.join(runsDir, runId), backend: {} });
        const started = performance.now();
        await stack.stop();
        const stopped = performance.now();
        samples[name].start.push(started - began);
        samples[name].stop.push(stopped - started);
        console.log(`${name} #${run + 1}: start ${Math.round(started - began)} ms, teardown ${Math.round(stopped - started)} ms`);
      }
    }
  } finally {
    fs.rmSync(runsDir, { recursive: true, force: true });
  }
  const summary = Object.fromEntries(
    Object.entries(samples).map(([name, { start, stop }]) => [
      name,
      {
        startMs: { median: Math.round(median(start)), min: Math.round(Math.min(...start)), max: Math.round(Math.max(...start)) },
        teardownMs: { median: Math.round(median(stop)), min: Math.round(Math.min(...stop)), max: Math.round(Math.max(...stop)) },
      },
    ]),
  );
  const result = { bench: 'stack', runs: RUNS, cpus: os.cpus().length, node: process.version, at: new Date().toISOString(), summary };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((error: unknown) => {
  console.error(`stack bench failed: ${(error as Error).message}`);
  process.exit(1);
});
