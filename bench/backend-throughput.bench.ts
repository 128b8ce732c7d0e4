/**
 * Backend throughput: durable acknowledged actions per second and action latency with N concurrent
 * WebSocket clients, no faults, PostgreSQL with fsync and synchronous_commit ON.
 *
 *   npm run bench:backend            (env BENCH_CLIENTS, BENCH_SECONDS, BENCH_RATE, BENCH_RUNS)
 *
 * Two load shapes, each repeated (median reported):
 *  - closed loop: every client sends its next action as soon as the previous one is acked (capacity);
 *  - open loop: a fixed total rate (default 2000/s) spread over the clients, latency measured from
 *    the INTENDED send time (no coordinated omission), the shape the SLO target is stated in.
 * Durability: after each run the action log must hold at least every acked action (ack-after-commit).
 * Baseline in the same run: single-row INSERT + COMMIT through pg on one connection (what an
 * ack-per-commit server without group commit could reach), and a WebSocket echo round trip.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { Client } from 'pg';
import { WebSocket, WebSocketServer } from 'ws';
import { BackendProcess, GameClient, TestPostgres, isAck } from '../games/reference/server/test-support/stack';
import type { Action } from '../games/reference/rules';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARMUP_MS = 1000;

interface RunResult {
  ackedPerSecond: number;
  acked: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  logRows: number;
  allAcks: number;
  durable: boolean;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });

function nextAction(index: number, peers: string[], self: string): Action {
  const roll = index % 20;
  if (roll < 14) return { kind: 'collect' };
  if (roll < 17) return { kind: 'buy', item: 'potion' };
  if (roll < 18) return { kind: 'upgrade' };
  const to = peers[(index * 7) % peers.length];
  return { kind: 'gift-send', to: to === self ? peers[(index * 7 + 1) % peers.length] : to, amount: 1 };
}

async function baselineInsertCommit(url: string, seconds: number) {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TABLE IF NOT EXISTS bench_baseline (id bigserial PRIMARY KEY, payload jsonb NOT NULL)');
  const histogram = newHistogram();
  const end = performance.now() + seconds * 1000;
  let count = 0;
  while (performance.now() < end) {
    const started = performance.now();
    await client.query('INSERT INTO bench_baseline (payload) VALUES ($1)', [JSON.stringify({ kind: 'collect', n: count })]);
    histogram.recordValue(Math.round((performance.now() - started) * 1000));
    count += 1;
  }
  await client.end();
  return { commitsPerSecond: Math.round(count / seconds), p50Ms: histogram.getValueAtPercentile(50) / 1000, p99Ms: histogram.getValueAtPercentile(99) / 1000 };
}

async function baselineWsEcho(seconds: number) {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data.toString())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await new Promise((resolve) => ws.once('open', resolve));
  const histogram = newHistogram();
  const end = performance.now() + seconds * 1000;
  let count = 0;
  while (performance.now() < end) {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      ws.once('message', () => resolve());
      ws.send(JSON.stringify({ t: 'action', seq: count, action: { kind: 'collect' } }));
    });
    histogram.recordValue(Math.round((performance.now() - started) * 1000));
    count += 1;
  }
  ws.close();
  wss.close();
  server.close();
  return { roundTripsPerSecond: Math.round(count / seconds), p50Ms: histogram.getValueAtPercentile(50) / 1000 };
}

async function loadRun(pg: TestPostgres, logDir: string, mode: 'closed' | 'open'): Promise<RunResult> {
  const url = await pg.createDatabase(`bench_${mode}`);
  const backend = await BackendProcess.launch(url, logDir);
  const players = Array.from({ length: CLIENTS }, (_, i) => `bench-${i}`);
  const clients = await Promise.all(players.map(() => GameClient.connect(backend.wsUrl)));
  try {
    await Promise.all(clients.map((client, i) => client.hello(players[i])));
    const histogram = newHistogram();
    let acked = 0;
    let allAcks = 0;
    let errors = 0;
    const startAt = performance.now();
    const measureFrom = startAt + WARMUP_MS;
    const stopAt = measureFrom + SECONDS * 1000;
    const interval = (CLIENTS / RATE) * 1000; // ms between one client's sends in open loop

    await Promise.all(
      clients.map(async (client, i) => {
        let seq = 0;
        const pending = new Map<number, number>(); // seq → intended send time
        client.socket.on('message', (data) => {
          const message = JSON.parse(data.toString());
          if (message.t !== 'ack' && message.t !== 'error') return;
          const intended = pending.get(message.seq);
          if (intended === undefined) return;
          pending.delete(message.seq);
          if (isAck(message)) allAcks += 1;
          if (intended >= measureFrom && intended < stopAt) {
            if (isAck(message)) {
              acked += 1;
              histogram.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
            } else errors += 1;
          }
        });
        client.received.length = 0;
        if (mode === 'closed') {
          while (performance.now() < stopAt) {
            seq += 1;
            const sentAt = performance.now();
            pending.set(seq, sentAt);
            client.send({ t: 'action', seq, action: nextAction(seq + i, players, players[i]) });
            await client.reply(seq, 30_000).catch(() => undefined);
          }
        } else {
          // Staggered start; each send is scheduled on a fixed grid (intended time), not after the previous ack.
          let intended = startAt + (interval * i) / CLIENTS;
          while (intended < stopAt) {
            const wait = intended - performance.now();
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
            seq += 1;
            pending.set(seq, intended);
            client.send({ t: 'action', seq, action: nextAction(seq + i, players, players[i]) });
            intended += interval;
          }
          const deadline = performance.now() + 30_000;
          while (pending.size > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }),
    );
    const measuredAcks = acked;
    // Every ack (measured or not) must be durable: compare the log with all acks the clients saw.
    const logClient = new Client({ connectionString: url });
    await logClient.connect();
    const rows = Number((await logClient.query<{ n: string }>('SELECT count(*) AS n FROM action_log')).rows[0].n);
    const maxSeqs = (await logClient.query<{ id: string; last_seq: number }>('SELECT id, last_seq FROM players')).rows;
    await logClient.end();
    // ack-after-commit: every ack any client saw (warm-up included) has its log row.
    const durable = maxSeqs.every((row) => row.last_seq > 0) && rows >= allAcks;
    return {
      ackedPerSecond: Math.round(measuredAcks / SECONDS),
      acked: measuredAcks,
      errors,
      p50Ms: histogram.getValueAtPercentile(50) / 1000,
      p99Ms: histogram.getValueAtPercentile(99) / 1000,
      maxMs: histogram.maxValue / 1000,
      logRows: rows,
      allAcks,
      durable,
    };
  } finally {
    for (const client of clients) client.close();
    await backend.stop('SIGTERM');
  }
}

function summarize(runs: RunResult[]) {
  return {
    ackedPerSecond: median(runs.map((r) => r.ackedPerSecond)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    durable: runs.every((r) => r.durable),
    runs,
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-bench-backend-'));
  const pg = await TestPostgres.start();
  try {
    const baselineUrl = await pg.createDatabase('bench_baseline');
    const insertCommit = await baselineInsertCommit(baselineUrl, 3);
    const wsEcho = await baselineWsEcho(2);
    console.log('baseline', { insertCommit, wsEcho });
    const closed: RunResult[] = [];
    const open: RunResult[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      closed.push(await loadRun(pg, dir, 'closed'));
      console.log('closed-loop run', run + 1, closed[run]);
      open.push(await loadRun(pg, dir, 'open'));
      console.log(`open-loop ${RATE}/s run`, run + 1, open[run]);
    }
    const closedSummary = summarize(closed);
    const openSummary = summarize(open);
    const result = {
      bench: 'backend-throughput',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.version },
      setup: { clients: CLIENTS, secondsPerRun: SECONDS, warmupMs: WARMUP_MS, runs: RUNS, openLoopRate: RATE, postgres: 'fsync=on synchronous_commit=on', actionMix: '70% collect, 15% buy, 5% upgrade, 5% gift-send (+5% collect)' },
      baseline: { insertCommit, wsEcho },
      closedLoop: closedSummary,
      openLoop: openSummary,
      ratioVsSingleInsertCommit: Math.round((closedSummary.ackedPerSecond / insertCommit.commitsPerSecond) * 100) / 100,
      target: { ackedPerSecond: 2000, p99Ms: 50, metAtOpenLoopRate: openSummary.ackedPerSecond >= 0.98 * RATE && openSummary.p99Ms <= 50 && RATE >= 2000 && openSummary.durable },
    };
    const out = path.resolve(__dirname, 'results', 'backend-throughput.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify({ baseline: result.baseline, closedLoop: { ...closedSummary, runs: undefined }, openLoop: { ...openSummary, runs: undefined }, target: result.target }, null, 2));
    console.log(`wrote ${out}`);
  } finally {
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
