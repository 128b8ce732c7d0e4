/**
 * Bot harness cost: what one bot costs the load generator, so a run's figures are the server's.
 *
 *   node bin/run-ts.js bench/bots.bench.ts         (env BENCH_RUNS=3, BENCH_PARTS=memory,cpu,concurrency,latency)
 *
 * The game server is the fake one (games/reference/client/testing/fake-game-server-main.ts) in its OWN process, so
 * this process holds only clients. Baseline in the same run: bare `ws` clients doing the same
 * protocol (hello, then one action at a time on the same schedule) with no bookkeeping.
 *  - memory: RSS and heap delta per connected, idle bot (N bots logged in, pinging) vs bare clients,
 *    and the same bots on `ws`'s client instead of the fleet's LeanWebSocket;
 *  - cpu: process CPU per completed action at ~2 000 actions/s, bots vs bare clients;
 *  - concurrency: the most connected bots (slow profile, think time exp. mean 10 s) with this
 *    thread's event-loop lag p99 ≤ 10 ms (one thread; the fleet runs one such thread per core);
 *  - latency: at ~2 000 actions/s, completion − intended time of bots vs bare clients (p50/p99),
 *    and the split at the server's ack timestamp (serverTime, hi-res epoch ms, same host clock).
 *  - fleet-scale (BENCH_PARTS=fleet-scale, not in the default set): the whole fleet (history and
 *    metrics on) at BENCH_FLEET_STEPS=10000,50000 bots, think time mean 10 s, against echo-ack
 *    servers: CPU, event-loop lag p99 and RSS over BENCH_FLEET_STEADY_S=30 s (bench/fleet-scale.ts).
 *  - pipelining: the same bots acting in bursts of 4 actions at once (the burst schedule), with
 *    pipelining off (maxInFlight 1: the burst goes out one ack at a time) and on (maxInFlight 4):
 *    RSS per active bot (2 000 bots, a burst every 4 s) and CPU per action (200 bots, every 400 ms).
 * Each part reports the median of BENCH_RUNS runs. Results: bench/results/bots.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import type { ServerMessage } from '../games/reference/rules/protocol';
import type { BehaviourProfile } from '../core/game';
import { epochNowMs, systemClock } from '../core/clock';
import referenceGame from '../games/reference';
import { deriveSeed } from '../core/rng';
import { BotSession } from '../bots/core/session';
import type { HistoryDraft } from '../bots/core/types';
import type { WebSocketLike } from '../core/websocket-like';
import { LatencyBook } from '../bots/metrics/latency';
import { LeanWebSocket } from '../bots/fleet/lean-websocket';
import { startEchoServer } from './peers/echo-server-process';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PARTS = new Set((process.env.BENCH_PARTS ?? 'memory,cpu,concurrency,latency,pipelining').split(','));
const PIPELINE_DEPTH = 4;
const MEMORY_BOTS = Number(process.env.BENCH_MEMORY_BOTS ?? 2000);
const RATE_BOTS = 200; // × 10 actions/s each = 2 000 actions/s
const RATE_PERIOD_MS = 100;
const MEASURE_MS = 4000;
const CONCURRENCY_STEPS = (process.env.BENCH_STEPS ?? '2500,5000,10000').split(',').map(Number);
const FLEET_STEPS = (process.env.BENCH_FLEET_STEPS ?? '10000,50000').split(',').map(Number);
const FLEET_STEADY_MS = Number(process.env.BENCH_FLEET_STEADY_S ?? 30) * 1000;
const REPO = path.resolve(__dirname, '..');
const OUT = path.join(REPO, 'bench', 'results', 'bots.json');
const BENCH_DEADLINE = Date.now() + 170_000; // stay under 3 minutes whatever happens

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;

const IDLE: BehaviourProfile = {
  name: 'bench-idle',
  description: 'logged in, never acts',
  mix: [{ action: 'collect', weight: 1 }],
  thinkTime: { kind: 'constant', value: 1e9 },
  sessionLength: { kind: 'never' },
  offlineTime: { kind: 'constant', value: 1000 },
};
// Uniform think times (mean RATE_PERIOD_MS) so 200 clients do not fire in lock-step bursts.
const STEADY: BehaviourProfile = { ...IDLE, name: 'bench-steady', mix: [{ action: 'collect', weight: 3 }, { action: 'buy', weight: 1 }], thinkTime: { kind: 'uniform', min: RATE_PERIOD_MS / 2, max: (RATE_PERIOD_MS * 3) / 2 } };
const barePeriod = (periodMs: number): number => periodMs / 2 + Math.random() * periodMs;
const SLOW: BehaviourProfile = { ...STEADY, name: 'bench-slow', thinkTime: { kind: 'exponential', mean: 10_000 } };

async function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'run-ts.js'), path.join(REPO, 'games', 'reference', 'client', 'testing', 'fake-game-server-main.ts')], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fake server did not start within 20 s')), 20_000);
    child.stdout!.once('data', (data: Buffer) => {
      clearTimeout(timer);
      resolve((JSON.parse(data.toString().split('\n')[0]) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`fake server exited with ${code}`)));
  });
  return { child, url: `ws://127.0.0.1:${port}` };
}

// ---------- the two kinds of client ----------

interface Population {
  /** Resolves when every client is logged in. */
  ready: Promise<void>;
  completions(): number;
  stop(): Promise<void>;
}

/** N bots on the real BotSession. */
interface BotOptions {
  onEntry?: (e: HistoryDraft) => void;
  connect?: (url: string) => WebSocketLike;
  /** Pipelining depth (timing.maxInFlight) and a burst schedule instead of the profile's think time. */
  maxInFlight?: number;
  burst?: { everyMs: number; actions: number };
}

function startBots(url: string, count: number, profile: BehaviourProfile, tag: string, options: BotOptions = {}): Population {
  const clock = systemClock(epochNowMs());
  let online = 0;
  let completions = 0;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  const sessions: BotSession[] = [];
  const connect = options.connect ?? ((target: string) => new LeanWebSocket(target)); // the fleet's socket for ws://
  const sink = {
    record: (entry: HistoryDraft) => {
      if (entry.type === 'ok' || entry.type === 'fail') {
        if (entry.f === 'login') {
          online += 1;
          if (online === count) resolveReady();
        } else completions += 1;
      }
      options.onEntry?.(entry);
    },
  };
  // Ramp in batches so the connect storm does not skew the first measurements.
  void (async () => {
    for (let i = 0; i < count; i++) {
      const id = `${tag}-${i + 1}`;
      const session = new BotSession({
        botId: id,
        playerId: id,
        url,
        profile,
        actions: referenceGame.actions,
        createClient: referenceGame.client,
        seed: deriveSeed(1, id),
        clock,
        openWebSocket: connect,
        sink,
        voluntaryDisconnects: false,
        ...(options.maxInFlight ? { timing: { maxInFlight: options.maxInFlight } } : {}),
        ...(options.burst ? { burst: options.burst } : {}),
      });
      sessions.push(session);
      session.start();
      if (i % 250 === 249) await sleep(25);
    }
  })();
  return {
    ready,
    completions: () => completions,
    stop: async () => {
      await Promise.all(sessions.map((session) => session.stop()));
    },
  };
}

/** N bare `ws` clients: hello, then (when periodMs) one collect per period from the schedule, one in flight. */
function startBare(url: string, count: number, tag: string, periodMs: number | undefined, latency?: { book: LatencyBook; active: () => boolean }): Population {
  let online = 0;
  let completions = 0;
  let stopped = false;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  const sockets: WebSocket[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const startClient = (i: number): void => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    sockets.push(socket);
    const playerId = `${tag}-${i + 1}`;
    let seq = 0;
    let scheduledAt = 0;
    let intendedAt = 0;
    const sendNext = (): void => {
      if (stopped) return;
      seq += 1;
      intendedAt = Math.min(scheduledAt, epochNowMs()); // as the bots: an early timer counts from the send
      socket.send(JSON.stringify({ t: 'action', seq, action: { kind: 'collect' } }));
    };
    const schedule = (): void => {
      scheduledAt += barePeriod(periodMs!);
      const delay = scheduledAt - epochNowMs();
      if (delay <= 0) return sendNext(); // behind schedule: at once, the intended time stays the schedule's
      const timer = setTimeout(() => {
        timers.delete(timer);
        sendNext();
      }, delay);
      timers.add(timer);
    };
    socket.on('error', () => undefined);
    socket.on('open', () => socket.send(JSON.stringify({ t: 'hello', playerId, resumeToken: `bare-token-${playerId}` })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as ServerMessage;
      if (message.t === 'welcome') {
        online += 1;
        if (online === count) resolveReady();
        if (periodMs) {
          scheduledAt = epochNowMs();
          schedule();
        }
      } else if (message.t === 'ack') {
        completions += 1;
        if (latency?.active()) latency.book.record('collect', epochNowMs() - intendedAt);
        schedule();
      }
    });
  };
  void (async () => {
    for (let i = 0; i < count; i++) {
      startClient(i);
      if (i % 250 === 249) await sleep(25);
    }
  })();
  return {
    ready,
    completions: () => completions,
    stop: async () => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.close();
      await sleep(200);
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------- the parts ----------

/** bots: on the fleet's LeanWebSocket; bots-ws: the same bots on `ws`'s client; bare: bare `ws` clients. */
type MemoryKind = 'bots' | 'bots-ws' | 'bare' | 'active' | 'active-pipelined';
const onWs = (target: string): WebSocketLike => new WebSocket(target, { perMessageDeflate: false });

/** Active bots for the pipelining part: bursts of PIPELINE_DEPTH actions every 4 s (2 000 bots: ~2 000 actions/s). */
const ACTIVE_BURST = { everyMs: 4000, actions: PIPELINE_DEPTH };

async function memoryRun(url: string, kind: MemoryKind, run: number): Promise<{ rssPerClientKB: number; heapPerClientKB: number }> {
  gc();
  await sleep(200);
  gc();
  const before = process.memoryUsage();
  const population =
    kind === 'bots' || kind === 'bots-ws'
      ? startBots(url, MEMORY_BOTS, IDLE, `mem-${kind}-${run}`, kind === 'bots-ws' ? { connect: onWs } : {})
      : kind === 'bare'
        ? startBare(url, MEMORY_BOTS, `mem-bare-${run}`, undefined)
        : startBots(url, MEMORY_BOTS, STEADY, `mem-${kind}-${run}`, { burst: ACTIVE_BURST, maxInFlight: kind === 'active-pipelined' ? PIPELINE_DEPTH : 1 });
  await withTimeout(population.ready, 60_000, `${MEMORY_BOTS} ${kind} logging in`);
  // Active bots: measure right after a burst went out (the pipelines hold their actions).
  await sleep(kind.startsWith('active') ? ACTIVE_BURST.everyMs - (epochNowMs() % ACTIVE_BURST.everyMs) + 5 : 500);
  gc();
  await sleep(100);
  gc();
  const after = process.memoryUsage();
  await population.stop();
  await sleep(300);
  return {
    rssPerClientKB: round((after.rss - before.rss) / MEMORY_BOTS / 1024, 2),
    heapPerClientKB: round((after.heapUsed + after.external + after.arrayBuffers - before.heapUsed - before.external - before.arrayBuffers) / MEMORY_BOTS / 1024, 2),
  };
}

async function cpuRun(url: string, kind: 'bots' | 'bots-ws' | 'bare', run: number): Promise<{ cpuMicrosPerAction: number; actionsPerSecond: number }> {
  const population = kind === 'bare' ? startBare(url, RATE_BOTS, `cpu-bare-${run}`, RATE_PERIOD_MS) : startBots(url, RATE_BOTS, STEADY, `cpu-${kind}-${run}`, kind === 'bots-ws' ? { connect: onWs } : {});
  return measureCpu(population, `${kind} logging in`);
}

/** After login and a warm-up: this process's CPU per completed action over MEASURE_MS, then the population stops. */
async function measureCpu(population: Population, what: string): Promise<{ cpuMicrosPerAction: number; actionsPerSecond: number }> {
  await withTimeout(population.ready, 30_000, what);
  await sleep(500); // warm-up
  const cpuBefore = process.cpuUsage();
  const doneBefore = population.completions();
  const started = epochNowMs();
  await sleep(MEASURE_MS);
  const cpu = process.cpuUsage(cpuBefore);
  const actions = population.completions() - doneBefore;
  const seconds = (epochNowMs() - started) / 1000;
  await population.stop();
  return { cpuMicrosPerAction: round((cpu.user + cpu.system) / Math.max(1, actions), 1), actionsPerSecond: round(actions / seconds, 0) };
}

/** CPU per action with bursts of PIPELINE_DEPTH every 400 ms (10 actions/s per bot), pipelining off or on. */
async function pipelinedCpuRun(url: string, maxInFlight: number, run: number): Promise<{ cpuMicrosPerAction: number; actionsPerSecond: number; mostInFlight: number }> {
  const open = new Map<string, number>();
  let mostInFlight = 0;
  const onEntry = (entry: HistoryDraft): void => {
    if (entry.type === 'event' || entry.f === 'login' || entry.f === 'read') return;
    const n = (open.get(entry.process) ?? 0) + (entry.type === 'invoke' ? 1 : -1);
    open.set(entry.process, n);
    mostInFlight = Math.max(mostInFlight, n);
  };
  const population = startBots(url, RATE_BOTS, STEADY, `pipe-${maxInFlight}-${run}`, { onEntry, maxInFlight, burst: { everyMs: 400, actions: PIPELINE_DEPTH } });
  return { ...(await measureCpu(population, 'bots logging in')), mostInFlight };
}

async function concurrencyStep(url: string, count: number, run: number): Promise<{ bots: number; lagP99Ms: number; actionsPerSecond: number; connected: boolean }> {
  const population = startBots(url, count, SLOW, `conc-${count}-${run}`);
  let connected = true;
  try {
    await withTimeout(population.ready, 60_000, `${count} bots logging in`);
  } catch {
    connected = false;
  }
  await sleep(1000);
  const lag = monitorEventLoopDelay({ resolution: 2 });
  lag.enable();
  const doneBefore = population.completions();
  await sleep(MEASURE_MS);
  lag.disable();
  const actions = population.completions() - doneBefore;
  await population.stop();
  await sleep(500);
  return { bots: count, lagP99Ms: round(lag.percentile(99) / 1e6, 2), actionsPerSecond: round(actions / (MEASURE_MS / 1000), 0), connected };
}

async function latencyRun(url: string, kind: 'bots' | 'bare', run: number): Promise<Record<string, number>> {
  const book = new LatencyBook();
  let measuring = false;
  if (kind === 'bare') {
    const population = startBare(url, RATE_BOTS, `lat-bare-${run}`, RATE_PERIOD_MS, { book, active: () => measuring });
    await withTimeout(population.ready, 30_000, 'bare clients logging in');
    await sleep(500);
    measuring = true;
    await sleep(MEASURE_MS);
    measuring = false;
    await population.stop();
    const stats = book.stats();
    return { p50Ms: stats.p50, p99Ms: stats.p99, maxMs: stats.max, actionsPerSecond: round(stats.count / (MEASURE_MS / 1000), 0) };
  }
  // Bots: the ack's serverTime is caught on the socket (an extra parse per message: conservative).
  const serverTimes = new Map<string, number>();
  const outbound = new LatencyBook();
  const inbound = new LatencyBook();
  const connect = (target: string): WebSocketLike => {
    const socket = new WebSocket(target, { perMessageDeflate: false });
    let player = '';
    const send = socket.send.bind(socket);
    (socket as unknown as { send: (data: string) => void }).send = (data: string) => {
      if (!player) player = (JSON.parse(data) as { playerId?: string }).playerId ?? '';
      send(data);
    };
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as ServerMessage;
      if (message.t === 'ack') serverTimes.set(`${player}:${message.seq}`, message.serverTime);
    });
    return socket;
  };
  const runStart = epochNowMs();
  const population = startBots(url, RATE_BOTS, STEADY, `lat-bot-${run}`, {
    connect,
    onEntry: (entry) => {
      if (!measuring || entry.type !== 'ok' || entry.f === 'login' || entry.f === 'read') return;
      book.record(entry.f, entry.time - entry.intendedAt);
      const key = `${entry.player}:${entry.seq}`;
      const serverTime = serverTimes.get(key);
      serverTimes.delete(key);
      if (serverTime === undefined) return;
      // Bot clocks are ms since their start: convert the epoch serverTime to the same origin.
      const server = serverTime - runStart;
      outbound.record('out', server - entry.intendedAt);
      inbound.record('in', entry.time - server);
    },
  });
  await withTimeout(population.ready, 30_000, 'bots logging in');
  await sleep(500);
  measuring = true;
  await sleep(MEASURE_MS);
  measuring = false;
  await population.stop();
  const all = book.stats();
  return {
    p50Ms: all.p50,
    p99Ms: all.p99,
    maxMs: all.max,
    actionsPerSecond: round(all.count / (MEASURE_MS / 1000), 0),
    intendedToServerP99Ms: outbound.stats('out').p99,
    serverToCompletionP99Ms: inbound.stats('in').p99,
  };
}

/** Runs memoryRun in a fresh child process (this file with BENCH_MEMORY_CHILD set). */
async function memoryInChild(url: string, kind: MemoryKind, run: number): Promise<{ rssPerClientKB: number; heapPerClientKB: number }> {
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'run-ts.js'), '--lean-heap', __filename], {
    cwd: REPO,
    env: { ...process.env, BENCH_MEMORY_CHILD: JSON.stringify({ url, kind, run }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (data: Buffer) => (output += data.toString()));
  const code = await withTimeout(new Promise<number | null>((resolve) => child.once('exit', resolve)), 90_000, `memory run (${kind})`).catch((error: Error) => {
    child.kill('SIGKILL');
    throw error;
  });
  if (code !== 0) throw new Error(`memory run (${kind}) exited with ${code}: ${output}`);
  return JSON.parse(output.trim().split('\n').pop()!) as { rssPerClientKB: number; heapPerClientKB: number };
}

// ---------- the fleet at scale (bench/fleet-scale.ts in child processes) ----------

function openFileLimit(): number {
  const match = /Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return match ? Number(match[1]) : 1024;
}

interface FleetScaleResult {
  bots: number;
  online: number;
  actionsPerSecond: number;
  cpuRatio: number;
  cpuMicrosPerAction: number;
  lagP99MsWorstSecond: number;
  lagP99MsMedianSecond: number;
  mainThreadLagP99MsWindow: number;
  botsOnMainThread: boolean;
  rssMb: number;
  saturatedAtAnyTime: boolean;
}

/**
 * `bots` fleet bots against echo-ack servers. One process holds at most this machine's open-file
 * limit of sockets (20 000 here, hard), so a bigger step runs as several fleets, each with its own
 * server, as `--agents N` runs it; their steady windows overlap and their figures add up.
 */
async function fleetScaleStep(bots: number): Promise<Record<string, unknown>> {
  const perProcess = Math.max(1000, openFileLimit() - 2000);
  const processes = Math.ceil(bots / perProcess);
  const shares = Array.from({ length: processes }, (_, i) => Math.floor(bots / processes) + (i < bots % processes ? 1 : 0));
  const rampMs = Math.max(10_000, Math.ceil(shares[0] / 1000) * 1000);
  const servers = await Promise.all(shares.map(() => startEchoServer()));
  try {
    const results = await Promise.all(
      shares.map(async (share, i) => {
        const child = spawn(process.execPath, [path.join(REPO, 'bin', 'run-ts.js'), '--lean-heap', path.join(REPO, 'bench', 'fleet-scale.ts'), JSON.stringify({ url: servers[i].url, bots: share, rampMs, steadyMs: FLEET_STEADY_MS })], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
        let output = '';
        child.stdout!.on('data', (data: Buffer) => (output += data.toString()));
        const code = await withTimeout(new Promise<number | null>((resolve) => child.once('exit', resolve)), rampMs + FLEET_STEADY_MS + 150_000, `fleet of ${share} bots`).finally(() => child.kill('SIGTERM'));
        if (code !== 0) throw new Error(`fleet of ${share} bots exited with ${code}: ${output}`);
        return JSON.parse(output.trim().split('\n').pop()!) as FleetScaleResult;
      }),
    );
    const sum = (pick: (r: FleetScaleResult) => number) => results.reduce((total, r) => total + pick(r), 0);
    const cpuMicros = sum((r) => r.cpuMicrosPerAction * r.actionsPerSecond);
    return {
      bots,
      processes,
      online: sum((r) => r.online),
      actionsPerSecond: round(sum((r) => r.actionsPerSecond), 1),
      cpuRatio: round(sum((r) => r.cpuRatio), 3),
      cpuMicrosPerAction: round(cpuMicros / sum((r) => r.actionsPerSecond), 1),
      lagP99MsWorstSecond: Math.max(...results.map((r) => r.lagP99MsWorstSecond)),
      // Each process's main thread over the whole window (where its bots run when botsOnMainThread); the worst process.
      lagP99MsWindow: results.every((r) => r.botsOnMainThread) ? Math.max(...results.map((r) => r.mainThreadLagP99MsWindow)) : undefined,
      rssMb: round(sum((r) => r.rssMb), 1),
      rssKbPerBot: round((sum((r) => r.rssMb) * 1024) / bots, 1),
      saturatedAtAnyTime: results.some((r) => r.saturatedAtAnyTime),
      ok: results.every((r, i) => r.online === shares[i] && r.botsOnMainThread && r.mainThreadLagP99MsWindow <= 10) && sum((r) => r.cpuRatio) < 0.8,
      perProcess: results,
    };
  } finally {
    for (const server of servers) server.stop();
  }
}

// ---------- main ----------

async function main(): Promise<void> {
  const { child, url } = await startServer();
  const results: Record<string, unknown> = {
    benchmark: 'bots',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    runs: RUNS,
    note: 'fake game server in its own process; medians of runs; baseline = bare ws clients with the same protocol and schedule in the same run',
    // The machine is shared: the 1-minute load average before and after says how quiet it was.
    loadAverageBefore: round(os.loadavg()[0], 2),
  };
  try {
    if (PARTS.has('memory')) {
      // Each memory run in a fresh process: RSS never shrinks, so a second run in one process would
      // reuse the pages of the first and read near zero.
      const bots = [];
      const botsOnWs = [];
      const bare = [];
      for (let run = 0; run < RUNS; run++) {
        bare.push(await memoryInChild(url, 'bare', run));
        bots.push(await memoryInChild(url, 'bots', run));
        botsOnWs.push(await memoryInChild(url, 'bots-ws', run));
      }
      const botRss = median(bots.map((r) => r.rssPerClientKB));
      const botOnWsRss = median(botsOnWs.map((r) => r.rssPerClientKB));
      const bareRss = median(bare.map((r) => r.rssPerClientKB));
      results.memory = {
        clients: MEMORY_BOTS,
        botRssPerClientKB: botRss,
        botHeapPerClientKB: median(bots.map((r) => r.heapPerClientKB)),
        // The same bots on ws's client: what LeanWebSocket saves per bot.
        botOnWsRssPerClientKB: botOnWsRss,
        botOnWsHeapPerClientKB: median(botsOnWs.map((r) => r.heapPerClientKB)),
        bareRssPerClientKB: bareRss,
        bareHeapPerClientKB: median(bare.map((r) => r.heapPerClientKB)),
        ratioRss: round(botRss / bareRss, 2),
        ratioRssLeanToWs: round(botRss / botOnWsRss, 2),
        targetKB: 100,
        meetsTarget: botRss <= 100,
        runs: { bots, botsOnWs, bare },
      };
      console.log('memory', JSON.stringify(results.memory));
    }
    if (PARTS.has('cpu')) {
      const bots = [];
      const botsOnWs = [];
      const bare = [];
      for (let run = 0; run < RUNS; run++) {
        bare.push(await cpuRun(url, 'bare', run));
        bots.push(await cpuRun(url, 'bots', run));
        botsOnWs.push(await cpuRun(url, 'bots-ws', run));
      }
      const botCpu = median(bots.map((r) => r.cpuMicrosPerAction));
      const botOnWsCpu = median(botsOnWs.map((r) => r.cpuMicrosPerAction));
      const bareCpu = median(bare.map((r) => r.cpuMicrosPerAction));
      results.cpu = {
        botCpuMicrosPerAction: botCpu,
        botOnWsCpuMicrosPerAction: botOnWsCpu,
        bareCpuMicrosPerAction: bareCpu,
        ratio: round(botCpu / bareCpu, 2),
        ratioLeanToWs: round(botCpu / botOnWsCpu, 2),
        botActionsPerSecond: median(bots.map((r) => r.actionsPerSecond)),
        runs: { bots, botsOnWs, bare },
      };
      console.log('cpu', JSON.stringify(results.cpu));
    }
    if (PARTS.has('latency')) {
      const bots = [];
      const bare = [];
      for (let run = 0; run < RUNS; run++) {
        bare.push(await latencyRun(url, 'bare', run));
        bots.push(await latencyRun(url, 'bots', run));
      }
      const botP99 = median(bots.map((r) => r.p99Ms));
      const bareP99 = median(bare.map((r) => r.p99Ms));
      results.latency = {
        targetActionsPerSecond: RATE_BOTS * (1000 / RATE_PERIOD_MS),
        botP50Ms: median(bots.map((r) => r.p50Ms)),
        botP99Ms: botP99,
        bareP50Ms: median(bare.map((r) => r.p50Ms)),
        bareP99Ms: bareP99,
        addedP99Ms: round(botP99 - bareP99),
        intendedToServerP99Ms: median(bots.map((r) => r.intendedToServerP99Ms)),
        serverToCompletionP99Ms: median(bots.map((r) => r.serverToCompletionP99Ms)),
        targetAddedP99Ms: 1,
        meetsTarget: botP99 - bareP99 <= 1,
        runs: { bots, bare },
      };
      console.log('latency', JSON.stringify(results.latency));
    }
    if (PARTS.has('pipelining')) {
      const memory: Record<'off' | 'on', Array<{ rssPerClientKB: number; heapPerClientKB: number }>> = { off: [], on: [] };
      const cpu: Record<'off' | 'on', Array<{ cpuMicrosPerAction: number; actionsPerSecond: number; mostInFlight: number }>> = { off: [], on: [] };
      for (let run = 0; run < RUNS; run++) {
        memory.off.push(await memoryInChild(url, 'active', run));
        memory.on.push(await memoryInChild(url, 'active-pipelined', run));
        cpu.off.push(await pipelinedCpuRun(url, 1, run));
        cpu.on.push(await pipelinedCpuRun(url, PIPELINE_DEPTH, run));
      }
      const summary = (side: 'off' | 'on') => ({
        maxInFlight: side === 'on' ? PIPELINE_DEPTH : 1,
        rssPerActiveBotKB: median(memory[side].map((r) => r.rssPerClientKB)),
        heapPerActiveBotKB: median(memory[side].map((r) => r.heapPerClientKB)),
        cpuMicrosPerAction: median(cpu[side].map((r) => r.cpuMicrosPerAction)),
        actionsPerSecond: median(cpu[side].map((r) => r.actionsPerSecond)),
        mostInFlightPerBot: Math.max(...cpu[side].map((r) => r.mostInFlight)),
      });
      results.pipelining = {
        workload: `bursts of ${PIPELINE_DEPTH} actions at once; memory: ${MEMORY_BOTS} bots, a burst every ${ACTIVE_BURST.everyMs / 1000} s (measured just after one); cpu: ${RATE_BOTS} bots, a burst every 400 ms`,
        off: summary('off'),
        on: summary('on'),
        runs: { memory, cpu },
      };
      console.log('pipelining', JSON.stringify({ off: summary('off'), on: summary('on') }));
    }
    if (PARTS.has('fleet-scale')) {
      const steps = [];
      for (const bots of FLEET_STEPS) {
        steps.push(await fleetScaleStep(bots));
        console.log('fleet-scale', JSON.stringify(steps[steps.length - 1]));
      }
      results.fleetScale = {
        workload: `the fleet as a run uses it (history, metrics on), echo-ack game, think time exponential mean 10 s, ${FLEET_STEADY_MS / 1000} s steady window after every bot is online; lagP99MsWorstSecond = the worst of the fleet's per-second p99 samples; lagP99MsWindow = p99 over the whole window of each process's main thread (its bots' thread), worst process; cpuRatio = share of all cores; ok = every bot online, lagP99MsWindow <= 10 ms, cpu < 80 %; saturatedAtAnyTime includes the ramp`,
        openFileLimit: openFileLimit(),
        steps,
      };
    }
    if (PARTS.has('concurrency')) {
      const steps = [];
      let best = 0;
      for (const count of CONCURRENCY_STEPS) {
        if (Date.now() > BENCH_DEADLINE - 30_000) {
          steps.push({ bots: count, skipped: 'time budget' });
          break;
        }
        const runs = [];
        // Fewer repeats for the big steps: each takes ~10 s.
        for (let run = 0; run < Math.min(RUNS, 2); run++) runs.push(await concurrencyStep(url, count, run));
        const lag = median(runs.map((r) => r.lagP99Ms));
        const ok = runs.every((r) => r.connected) && lag <= 10;
        steps.push({ bots: count, lagP99Ms: lag, actionsPerSecond: median(runs.map((r) => r.actionsPerSecond)), ok, runs });
        console.log('concurrency', JSON.stringify(steps[steps.length - 1]));
        if (!ok) break;
        best = count;
      }
      results.concurrency = { profile: 'collect/buy, think time exponential mean 10 s, ping every 5 s idle', lagLimitMs: 10, maxBotsWithinLimit: best, target: 10_000, meetsTarget: best >= 10_000, steps };
    }
  } finally {
    child.stdin?.end();
    child.kill('SIGTERM');
  }
  results.loadAverageAfter = round(os.loadavg()[0], 2);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  // A run of some parts (BENCH_PARTS) keeps the other parts' figures, each with the date it was measured.
  const previous = fs.existsSync(OUT) ? (JSON.parse(fs.readFileSync(OUT, 'utf8')) as Record<string, unknown>) : {};
  const measured = ['memory', 'cpu', 'latency', 'concurrency', 'pipelining', 'fleetScale'].filter((part) => results[part] !== undefined);
  const partDates = { ...((previous.partDates as Record<string, string> | undefined) ?? Object.fromEntries(['memory', 'cpu', 'latency', 'concurrency'].filter((part) => previous[part] !== undefined).map((part) => [part, String(previous.date)]))) };
  for (const part of measured) partDates[part] = String(results.date);
  fs.writeFileSync(OUT, JSON.stringify({ ...previous, ...results, partDates }, null, 2) + '\n');
  console.log(`wrote ${path.relative(REPO, OUT)}`);
}

const memoryChild = process.env.BENCH_MEMORY_CHILD ? (JSON.parse(process.env.BENCH_MEMORY_CHILD) as { url: string; kind: MemoryKind; run: number }) : undefined;
(memoryChild ? memoryRun(memoryChild.url, memoryChild.kind, memoryChild.run).then((result) => console.log(JSON.stringify(result))) : main()).then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(2);
  },
);
