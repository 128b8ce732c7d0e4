/**
 * The fleet's Prometheus metrics (names from helper-notes/METRICS.md, job="bots"), fed from the
 * history entries the bots produce, served on a loopback /metrics port.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HistoryDraft } from '../core/types';

const RTT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A kind's series: the result counters appear on their first increment, as labelled increments made them. */
interface KindChildren {
  ok?: Counter.Internal;
  fail?: Counter.Internal;
  info?: Counter.Internal;
  rtt: Histogram.Internal<'kind'>;
}

export class FleetMetrics {
  readonly registry = new Registry();
  readonly botsOnline = new Gauge({ name: 'lagstorm_bots_online', help: 'Bots logged in and playing', registers: [this.registry] });
  readonly actions = new Counter({ name: 'lagstorm_bot_actions_total', help: 'Completed bot operations by kind and result', labelNames: ['kind', 'result'] as const, registers: [this.registry] });
  readonly actionRtt = new Histogram({
    name: 'lagstorm_bot_action_rtt_seconds',
    help: 'Operation latency from the intended send time to the completion (ok/fail)',
    labelNames: ['kind'] as const,
    buckets: RTT_BUCKETS,
    registers: [this.registry],
  });
  readonly resume = new Histogram({ name: 'lagstorm_bot_session_resume_seconds', help: 'From deciding to reconnect to the welcome', buckets: RTT_BUCKETS, registers: [this.registry] });
  readonly reconnects = new Counter({ name: 'lagstorm_bot_reconnects_total', help: 'Sessions re-established after a lost link or a voluntary pause', registers: [this.registry] });
  readonly desyncs = new Counter({ name: 'lagstorm_bot_desyncs_total', help: 'Shadow model disagreed with the server', registers: [this.registry] });
  readonly gaveUp = new Counter({ name: 'lagstorm_bot_gave_up_total', help: 'Bots that stopped reconnecting', registers: [this.registry] });
  readonly cpuRatio = new Gauge({ name: 'lagstorm_loadgen_cpu_ratio', help: 'Load generator CPU use, 0..1 of all cores', registers: [this.registry] });
  readonly eventLoopLag = new Gauge({ name: 'lagstorm_loadgen_event_loop_lag_seconds', help: 'Worst per-thread event-loop lag p99 over the last sample', registers: [this.registry] });

  /** Updates counters and histograms from one history entry. */
  observe(entry: HistoryDraft): void {
    if (entry.type === 'event') {
      if (entry.f === 'desync') this.desyncs.inc();
      else if (entry.f === 'gave-up') this.gaveUp.inc();
      else if (entry.f === 'reconnected') {
        this.reconnects.inc();
        const resumeMs = (entry.value as { resumeMs?: number } | undefined)?.resumeMs;
        if (typeof resumeMs === 'number') this.resume.observe(resumeMs / 1000);
      }
      return;
    }
    if (entry.process === 'nemesis' || entry.type === 'invoke') return;
    const children = this.childrenOf(entry.f);
    (children[entry.type] ??= this.actions.labels(entry.f, entry.type)).inc();
    if (entry.type !== 'info') children.rtt.observe(Math.max(0, entry.time - entry.intendedAt) / 1000);
  }

  /** Each kind's labelled children, looked up once: labelling every observation built and hashed a label object per action. */
  private childrenOf(kind: string): KindChildren {
    let children = this.byKind.get(kind);
    if (!children) {
      children = { rtt: this.actionRtt.labels(kind) };
      this.byKind.set(kind, children);
    }
    return children;
  }

  private readonly byKind = new Map<string, KindChildren>();
}

export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves `registry` at http://127.0.0.1:<port>/metrics (port 0 = any free port). */
export function serveMetrics(registry: Registry, port = 0): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end('try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) => response.writeHead(500).end(error.message),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${bound}/metrics`,
        port: bound,
        close: () => new Promise((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}
