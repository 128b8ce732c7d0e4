/**
 * The coordinator: serves the agents' protocol (agents/protocol.ts) on loopback, waits until every
 * agent is ready (connected, clock measured, bots planned), hands out time 0, merges the shards
 * into the run's one history recorder, and watches the agents: one that ends before its summary,
 * falls silent, or saturates is a harness error naming it. Once released it looks like one fleet
 * (StartedFleet) to the runner.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { Registry } from 'prom-client';
import { clockBase, epochNowMs } from '../core/clock';
import type { HistoryDraft } from '../bots/core/types';
import type { FleetProgress, FleetResult, LoadGeneratorHealth, StartedFleet } from '../bots/fleet/fleet';
import { LatencyBook } from '../bots/metrics/latency';
import { serveMetrics, type MetricsServer } from '../bots/metrics/prometheus';
import type { AgentSummary } from '../core/summary';
import { machineBootId } from './clock-offset';
import { urlHostOf } from './engine';
import { ShardIngest } from './shard-ingest';
import type { AgentDone, AgentHello, AgentReady, AgentStatus, BatchReply, StartReply } from './protocol';

export interface CoordinatorOptions {
  runId: string;
  count: number;
  /** Segments by index, for messages. */
  segments: string[];
  /** No batch for this long after time 0 means the agent is lost (ms). */
  silenceMs?: number;
  /** Called once with the reason when an agent is lost or saturated (the runner aborts the run). */
  onAgentFailure: (message: string) => void;
  /** Where the HTTP server listens (`run --coordinator-listen`, `--coordinator-port`); default 127.0.0.1, any free port. */
  listen?: { host?: string; port?: number };
  log?: (line: string) => void;
}

/** One agent as the coordinator sees it (the summary's `agents`). */
export type AgentRecord = AgentSummary;

export interface ReleaseOptions {
  runStartEpochMs: number;
  /** The run's history recorder: merged shards and the nemesis go to it. */
  recorder: { appendMany(entries: readonly HistoryDraft[]): void };
  /** Loopback port of the coordinator's own /metrics (the nemesis's fault gauge). */
  metricsPort: number;
  signal: AbortSignal;
}

interface AgentSlot {
  record: AgentRecord;
  ingest: ShardIngest;
  status?: AgentStatus;
  ready?: AgentReady;
  result?: FleetResult;
  lastSeen: number;
}

export class Coordinator {
  /** This machine's URL of the coordinator (loopback when it listens on every interface). */
  readonly url: string;
  readonly port: number;
  private readonly slots: AgentSlot[];
  private release?: { runStartEpochMs: number };
  private stopRequested = false;
  private deliver: (entries: HistoryDraft[]) => void = () => undefined;
  private readonly waiters = new Set<() => void>();
  private failed = false;
  private readonly errors: string[] = [];
  private readonly latency = new LatencyBook();
  private readonly resume = new LatencyBook();
  private readonly actions = { invoked: 0, ok: 0, fail: 0, info: 0 };
  private watch?: NodeJS.Timeout;
  private closeMetrics: () => Promise<void> = async () => undefined;
  private describer: (index: number) => string = () => '?';

  private constructor(
    private readonly server: http.Server,
    private readonly options: CoordinatorOptions,
  ) {
    const address = server.address() as AddressInfo;
    this.port = address.port;
    this.url = `http://${urlHostOf(address.address)}:${address.port}`;
    this.slots = Array.from({ length: options.count }, (_, index) => ({
      record: { index, segment: options.segments[index], where: '?', bots: 0, batches: 0, entries: 0, state: 'starting' as const },
      ingest: new ShardIngest((entries) => this.deliver(entries)),
      lastSeen: 0,
    }));
  }

  static async start(options: CoordinatorOptions): Promise<Coordinator> {
    const holder: { coordinator?: Coordinator } = {};
    const server = http.createServer((request, response) => {
      void holder.coordinator!.handle(request, response).catch((error: Error) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.message }));
      });
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listen?.port ?? 0, options.listen?.host ?? '127.0.0.1', () => resolve());
    });
    holder.coordinator = new Coordinator(server, options);
    return holder.coordinator;
  }

  agents(): AgentRecord[] {
    return this.slots.map((slot) => ({ ...slot.record, where: this.where(slot) }));
  }

  /** The engine's description of each agent (pid, task, pod) for messages; asked again each time, since a pod gets its name after the launch. */
  describe(describe: (index: number) => string): void {
    this.describer = describe;
    for (const slot of this.slots) this.where(slot);
  }

  private where(slot: AgentSlot): string {
    slot.record.where = this.describer(slot.record.index);
    return slot.record.where;
  }

  private name(slot: AgentSlot): string {
    return `agent ${slot.record.index} (${this.where(slot)}, segment ${slot.record.segment})`;
  }

  /** The engine says agent `index` ended: early unless it delivered its summary. */
  agentEnded(index: number, how: string): void {
    const slot = this.slots[index];
    if (!slot) return;
    slot.record.ended = how;
    if (slot.record.state !== 'done') this.lose(slot, `${how} before sending its summary`);
  }

  private lose(slot: AgentSlot, why: string): void {
    if (slot.record.state === 'done' || slot.record.state === 'lost') return;
    slot.record.state = 'lost';
    this.fail(`${this.name(slot)} was lost: ${why}; its bots' history is incomplete, so the run cannot be judged (see logs/agent-${slot.record.index}.log)`);
    this.wake();
  }

  private fail(message: string): void {
    this.errors.push(message);
    this.options.log?.(`agents: ${message}`);
    if (!this.failed) {
      this.failed = true;
      this.stopRequested = true;
      this.options.onAgentFailure(message);
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private until(condition: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (condition()) finish(true);
        else if (signal?.aborted) finish(false);
      };
      const finish = (value: boolean): void => {
        this.waiters.delete(check);
        clearTimeout(timer);
        signal?.removeEventListener('abort', check);
        resolve(value);
      };
      const timer = setTimeout(() => finish(condition()), timeoutMs);
      timer.unref();
      this.waiters.add(check);
      signal?.addEventListener('abort', check);
      check();
    });
  }

  /** Waits until every agent is ready; throws naming the ones that are not (or were lost). */
  async waitReady(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const ready = await this.until(() => this.failed || this.slots.every((slot) => slot.record.state === 'ready'), timeoutMs, signal);
    if (this.failed) throw new Error(this.errors[0]);
    if (!ready) {
      if (signal.aborted) throw new Error('interrupted while the agents were starting');
      const late = this.slots.filter((slot) => slot.record.state !== 'ready').map((slot) => `${this.name(slot)}: ${slot.record.state}`);
      throw new Error(`agents not ready within ${Math.round(timeoutMs / 1000)} s: ${late.join('; ')} (see logs/agent-<i>.log)`);
    }
  }

  /** Time 0: the agents start their bots; from now on the coordinator is the run's fleet. */
  async start(options: ReleaseOptions): Promise<StartedFleet> {
    const registry = new Registry();
    const metrics: MetricsServer = await serveMetrics(registry, options.metricsPort);
    let metricsClosed: Promise<void> | undefined;
    this.closeMetrics = () => (metricsClosed ??= metrics.close());
    this.deliver = (entries) => {
      options.recorder.appendMany(entries);
      for (const entry of entries) this.observe(entry);
    };
    this.release = { runStartEpochMs: options.runStartEpochMs };
    for (const slot of this.slots) {
      slot.record.state = 'playing';
      slot.lastSeen = Math.max(Date.now(), options.runStartEpochMs);
    }
    const silenceMs = this.options.silenceMs ?? 5000;
    this.watch = setInterval(() => {
      const now = Date.now();
      for (const slot of this.slots) if (slot.record.state === 'playing' && now - slot.lastSeen > silenceMs) this.lose(slot, `no batch for ${((now - slot.lastSeen) / 1000).toFixed(1)} s`);
    }, 500);
    this.watch.unref();
    const startedAt = Date.now();
    const settled = (): boolean => this.slots.every((slot) => slot.record.state === 'done' || slot.record.state === 'lost');
    const loadEndMs = Math.max(0, ...this.slots.map((slot) => slot.ready?.loadEndMs ?? 0));
    const done = this.until(settled, 24 * 3600_000).then(() => {
      clearInterval(this.watch);
      return this.result(startedAt);
    });
    let stopped: Promise<FleetResult> | undefined;
    const stop = (): Promise<FleetResult> =>
      (stopped ??= (async () => {
        this.stopRequested = true;
        // Bounded: an agent that does not finish after being told to stop is lost.
        if (!(await this.until(settled, 20_000))) for (const slot of this.slots) this.lose(slot, 'did not stop within 20 s of being told to');
        const result = await done;
        await this.closeMetrics();
        return result;
      })());
    options.signal.addEventListener('abort', () => void stop(), { once: true });
    if (options.signal.aborted) void stop();
    return {
      metricsUrl: metrics.url,
      metricsPort: metrics.port,
      plan: { bots: this.slots.reduce((sum, slot) => sum + (slot.ready?.bots ?? 0), 0), dropped: this.slots.reduce((sum, slot) => sum + (slot.ready?.dropped ?? 0), 0), loadEndMs },
      progress: (): FleetProgress => ({
        botsOnline: this.slots.reduce((sum, slot) => sum + (slot.status?.online ?? 0), 0),
        actionsPerSecond: this.slots.reduce((sum, slot) => sum + (slot.status?.actionsPerSecond ?? 0), 0),
        p99Ms: this.latency.stats().p99,
        errors: this.actions.fail + this.actions.info,
      }),
      health: (): LoadGeneratorHealth => this.result(startedAt).loadGenerator,
      metricsRegistry: registry,
      done,
      stop,
    };
  }

  /** Every agent's entries up to this time are in the recorder (its watermark for writing). */
  watermark(): number {
    let low = Infinity;
    for (const slot of this.slots) if (slot.record.state === 'playing') low = Math.min(low, slot.ingest.upTo);
    return low;
  }

  async close(): Promise<void> {
    clearInterval(this.watch);
    this.stopRequested = true;
    this.wake();
    await this.closeMetrics();
    await new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private observe(entry: HistoryDraft): void {
    if (entry.type === 'event') {
      if (entry.f === 'reconnected') {
        const resumeMs = (entry.value as { resumeMs?: number } | undefined)?.resumeMs;
        if (typeof resumeMs === 'number') this.resume.record('resume', resumeMs);
      }
      return;
    }
    if (entry.process === 'nemesis') return;
    if (entry.type === 'invoke') {
      this.actions.invoked += 1;
      return;
    }
    this.actions[entry.type] += 1;
    if (entry.type !== 'info') this.latency.record(entry.f, entry.time - entry.intendedAt);
  }

  private result(startedAt: number): FleetResult {
    const results = this.slots.map((slot) => slot.result);
    const sum = (pick: (result: FleetResult) => number): number => results.reduce((total, result) => total + (result ? pick(result) : 0), 0);
    const health = this.slots.map((slot) => slot.result?.loadGenerator ?? slot.status?.loadGenerator).filter((h): h is LoadGeneratorHealth => h !== undefined);
    const errors = [...this.errors];
    this.slots.forEach((slot) => {
      for (const error of slot.result?.errors ?? []) errors.push(`${this.name(slot)}: ${error}`);
    });
    return {
      bots: sum((r) => r.bots),
      sessionsStarted: sum((r) => r.sessionsStarted),
      reconnects: sum((r) => r.reconnects),
      desyncs: sum((r) => r.desyncs),
      gaveUp: sum((r) => r.gaveUp),
      dropped: sum((r) => r.dropped),
      actions: { ...this.actions },
      latency: this.latency.allStats(),
      resume: this.resume.stats('resume'),
      loadGenerator: {
        cpuPeakRatio: Math.max(0, ...health.map((h) => h.cpuPeakRatio)),
        eventLoopLagP99Ms: Math.max(0, ...health.map((h) => h.eventLoopLagP99Ms)),
        saturated: health.some((h) => h.saturated),
      },
      durationMs: Date.now() - startedAt,
      errors,
    };
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const t1 = epochNowMs();
    const match = /^\/agents\/(\d+)\/(hello|clock|ready|start|batch|done)$/.exec(request.url ?? '');
    const slot = match ? this.slots[Number(match[1])] : undefined;
    const reply = (status: number, body: unknown): void => void response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (!match || !slot) return reply(404, { error: `no such agent endpoint ${request.url}; this run has agents 0..${this.slots.length - 1}` });
    const body = await readBody(request);
    const json = <T>(): T => JSON.parse(body.toString('utf8') || '{}') as T;
    slot.lastSeen = Math.max(slot.lastSeen, Date.now());
    switch (match[2]) {
      case 'hello': {
        const hello = json<AgentHello>();
        if (hello.runId !== this.options.runId) return reply(409, { error: `this coordinator runs ${this.options.runId}, not ${hello.runId}` });
        if (hello.segment !== slot.record.segment) return reply(409, { error: `agent ${slot.record.index} owns segment ${slot.record.segment}, not ${hello.segment}` });
        slot.record.pid = hello.pid;
        if (slot.record.state === 'starting') slot.record.state = 'connected';
        return reply(200, { ok: true });
      }
      case 'clock':
        return reply(200, { t1, t2: epochNowMs() });
      case 'ready': {
        const ready = json<AgentReady>();
        slot.ready = ready;
        slot.record.bots = ready.bots;
        slot.record.clockOffsetMs = ready.clockOffsetMs;
        slot.record.clockErrorMs = ready.clockErrorMs;
        const base = clockBase();
        if (ready.monotonicBaseMs !== undefined && base !== undefined && ready.bootId !== undefined && ready.bootId === machineBootId()) slot.record.sameMachineOffsetMs = Math.round((base - ready.monotonicBaseMs) * 1000) / 1000;
        if (slot.record.state === 'connected' || slot.record.state === 'starting') slot.record.state = 'ready';
        this.wake();
        return reply(200, { ok: true });
      }
      case 'start': {
        const answer: StartReply = this.stopRequested ? { stop: true } : this.release ? { runStartEpochMs: this.release.runStartEpochMs } : { wait: true };
        return reply(200, answer);
      }
      case 'batch': {
        const n = Number(request.headers['x-batch']);
        const upTo = Number(request.headers['x-up-to']);
        if (!Number.isInteger(n) || n < 1 || !Number.isFinite(upTo)) return reply(400, { error: 'x-batch (1, 2, ...) and x-up-to (ms) headers are required' });
        const status = request.headers['x-status'];
        if (typeof status === 'string') this.noteStatus(slot, JSON.parse(status) as AgentStatus);
        const text = request.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(body).toString('utf8') : body.toString('utf8');
        let receipt;
        try {
          receipt = slot.ingest.receive(n, upTo, text);
        } catch (error) {
          this.lose(slot, `batch ${n} does not decode (${(error as Error).message})`);
          return reply(400, { error: (error as Error).message });
        }
        if (receipt.outcome === 'accepted') slot.record.wireBytes = (slot.record.wireBytes ?? 0) + body.length;
        slot.record.batches = slot.ingest.acked;
        slot.record.entries = slot.ingest.entries;
        return reply(200, { acked: receipt.acked, stop: this.stopRequested } satisfies BatchReply);
      }
      case 'done': {
        const done = json<AgentDone>();
        if (done.lastBatch !== slot.ingest.acked) return reply(409, { acked: slot.ingest.acked, error: `batches up to ${done.lastBatch} are needed first` });
        slot.result = done.result;
        this.noteStatus(slot, { online: 0, actionsPerSecond: 0, errors: 0, loadGenerator: done.result.loadGenerator });
        if (slot.record.state !== 'lost') slot.record.state = 'done';
        this.wake();
        return reply(200, { ok: true });
      }
    }
  }

  private noteStatus(slot: AgentSlot, status: AgentStatus): void {
    slot.status = status;
    slot.record.loadGenerator = status.loadGenerator;
    if (status.loadGenerator.saturated && !this.saturatedReported.has(slot.record.index)) {
      this.saturatedReported.add(slot.record.index);
      const load = status.loadGenerator;
      this.fail(`${this.name(slot)}: its load generator saturated (CPU peak ${(load.cpuPeakRatio * 100).toFixed(0)} %, event-loop lag p99 ${load.eventLoopLagP99Ms.toFixed(1)} ms): its latencies are overstated, so the run cannot be judged; use more agents or fewer bots`);
    }
  }

  private readonly saturatedReported = new Set<number>();
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
