/**
 * The evidence of a failed run's offending operations over a big run: a synthetic history of
 * ~1,000,000 entries (2,000 bots), three failed checks with 12 offences each, a backend log of
 * 200,000 JSON lines naming players and a PostgreSQL log of 20,000 lines. Measures reading the logs
 * and correlating (what a failed run adds at its end, and `lagstorm explain` without its start-up),
 * median of 5, beside a baseline measured in the same run: one pass over the history and a split of
 * the log files into lines.
 *
 *   node bin/run-ts.js bench/explain.bench.ts [entries]
 */
import fs from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { ClientOp, HistoryEntry } from '../core/history';
import type { CheckResult } from '../verdict/types';
import { explainRun, type RunRecord } from '../core/explain/explain';
import { readRunLogs } from '../core/explain/log-lines';

const ENTRIES = Number(process.argv[2] ?? 1_000_000);
const PLAYERS = 2_000;
const BACKEND_LINES = 200_000;
const POSTGRES_LINES = 20_000;
const REPEATS = 5;
const ZERO = Date.parse('2026-12-02T10:00:00.000Z');
const RUN_MS = 600_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time<T>(work: () => T): { seconds: number; result: T } {
  const started = process.hrtime.bigint();
  const result = work();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, result };
}

function generate(): { history: HistoryEntry[]; checks: CheckResult[] } {
  const history: HistoryEntry[] = [];
  const seqs = new Array<number>(PLAYERS).fill(0);
  for (let i = 0; history.length < ENTRIES; i++) {
    const bot = i % PLAYERS;
    const at = (i / (ENTRIES / 2)) * RUN_MS;
    const seq = ++seqs[bot];
    const base = { process: `bot${bot}`, player: `p${bot}`, f: 'collect', seq, intendedAt: at };
    history.push({ index: history.length, type: 'invoke', ...base, time: at, value: { kind: 'collect' } } as ClientOp);
    history.push({ index: history.length, type: 'ok', ...base, time: at + 2, version: seq, value: { outcome: 'applied' } } as ClientOp);
  }
  const offence = (k: number) => ({ problem: 'lost', op: history[Math.floor(((k + 1) * history.length) / 40) | 1] });
  const checks: CheckResult[] = ['acked-durable', 'monotonic', 'no-desync'].map((name, c) => ({
    name,
    valid: false,
    summary: `${name} failed`,
    first: offence(c * 12),
    worst: offence(c * 12 + 1),
    details: { examples: Array.from({ length: 10 }, (_, k) => offence(c * 12 + 2 + k)) },
  }));
  return { history, checks };
}

function writeLogs(runDir: string): void {
  fs.mkdirSync(path.join(runDir, 'logs'), { recursive: true });
  const backend: string[] = [];
  for (let i = 0; i < BACKEND_LINES; i++) {
    const at = new Date(ZERO + (i / BACKEND_LINES) * RUN_MS).toISOString();
    backend.push(JSON.stringify({ time: at, level: 'info', message: 'player logged in', player: `p${i % PLAYERS}`, session: i }));
  }
  fs.writeFileSync(path.join(runDir, 'logs', 'backend.log'), backend.join('\n') + '\n');
  const postgres: string[] = [];
  for (let i = 0; i < POSTGRES_LINES; i++) {
    const at = new Date(ZERO + (i / POSTGRES_LINES) * RUN_MS).toISOString().replace('T', ' ').replace('Z', ' UTC');
    postgres.push(`${at} [${100 + (i % 7)}] LOG:  checkpoint starting: time`);
  }
  fs.writeFileSync(path.join(runDir, 'logs', 'postgresql.log'), postgres.join('\n') + '\n');
}

function main(): void {
  const runDir = fs.mkdtempSync(path.join(tmpdir(), 'lagstorm-explain-bench-'));
  try {
    const generated = time(generate);
    const { history, checks } = generated.result;
    writeLogs(runDir);
    const summary: RunRecord = { runId: 'bench', checks, faults: [{ id: 't1', fault: 'backend-crash', params: {}, startedAt: 100_000, stoppedAt: 103_000, healed: true }], startedAt: new Date(ZERO).toISOString(), timelineStartedAt: new Date(ZERO).toISOString(), finishedAt: new Date(ZERO + RUN_MS).toISOString(), durationMs: RUN_MS };
    const baseline: number[] = [];
    const reading: number[] = [];
    const correlating: number[] = [];
    let explained = 0;
    let lines = 0;
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      baseline.push(
        time(() => {
          let ok = 0;
          for (const entry of history) if (entry.type === 'ok') ok++;
          for (const file of ['backend.log', 'postgresql.log']) ok += fs.readFileSync(path.join(runDir, 'logs', file), 'utf8').split('\n').length;
          return ok;
        }).seconds,
      );
      const read = time(() => readRunLogs(runDir));
      reading.push(read.seconds);
      const correlated = time(() => explainRun({ summary, history, logs: read.result }, { grafanaUrl: 'http://127.0.0.1:3000' }));
      correlating.push(correlated.seconds);
      explained = correlated.result.explanations.length;
      lines = correlated.result.explanations.reduce((sum, e) => sum + e.backend.lines.length + e.postgres.lines.length, 0);
    }
    const result = {
      benchmark: 'explain',
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim(),
      loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
      entries: history.length,
      players: PLAYERS,
      backendLogLines: BACKEND_LINES,
      postgresLogLines: POSTGRES_LINES,
      offendingOperationsExplained: explained,
      logLinesShown: lines,
      repeats: REPEATS,
      generationSeconds: Math.round(generated.seconds * 100) / 100,
      medianSeconds: {
        baselineHistoryPassAndLogSplit: Math.round(median(baseline) * 1e4) / 1e4,
        readAndTimeLogs: Math.round(median(reading) * 1e4) / 1e4,
        correlate: Math.round(median(correlating) * 1e4) / 1e4,
        total: Math.round((median(reading) + median(correlating)) * 1e4) / 1e4,
      },
      heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1e6),
    };
    const out = path.join(__dirname, 'results', 'explain.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify(result, null, 2));
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

main();
