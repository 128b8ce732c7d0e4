import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { freePort } from '../stack/ports';
import { startPrometheus, type PrometheusServer } from '../stack/prometheus';
import { PANEL_CATALOGUE } from './catalogue';
import { fetchPanelSeries, formatLegend } from './prometheus-query';

async function serve(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function close(server: http.Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A bot fleet's and a backend's metrics (names from METRICS.md), moving while the test runs. */
function fakeExporters(): { bots: Registry; backend: Registry; tick: () => void } {
  const bots = new Registry();
  const backend = new Registry();
  const online = new Gauge({ name: 'lagstorm_bots_online', help: 'h', registers: [bots] });
  const actions = new Counter({ name: 'lagstorm_bot_actions_total', help: 'h', labelNames: ['kind', 'result'], registers: [bots] });
  const rtt = new Histogram({ name: 'lagstorm_bot_action_rtt_seconds', help: 'h', labelNames: ['kind'], buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1], registers: [bots] });
  const sessions = new Gauge({ name: 'game_sessions_online', help: 'h', registers: [backend] });
  const applied = new Counter({ name: 'game_actions_total', help: 'h', labelNames: ['kind', 'outcome'], registers: [backend] });
  let n = 0;
  return {
    bots,
    backend,
    tick: () => {
      n++;
      online.set(5 + (n % 3));
      sessions.set(5);
      for (const kind of ['collect', 'buy']) {
        actions.inc({ kind, result: 'ok' }, 10);
        applied.inc({ kind, outcome: 'applied' }, 10);
        for (let i = 0; i < 10; i++) rtt.observe({ kind }, 0.002 * (i + 1));
      }
    },
  };
}

describe('fetchPanelSeries against a real Prometheus', () => {
  let dir: string;
  let prometheus: PrometheusServer | undefined;
  let botsServer: http.Server | undefined;
  let backendServer: http.Server | undefined;
  let ticker: NodeJS.Timeout | undefined;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-promq-'));
  });
  afterAll(async () => {
    if (ticker) clearInterval(ticker);
    await prometheus?.stop('SIGTERM', 10_000);
    await close(botsServer);
    await close(backendServer);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs every catalogue query without a PromQL error and returns the served panels with data', async () => {
    const exporters = fakeExporters();
    exporters.tick();
    ticker = setInterval(exporters.tick, 250);
    const metricsHandler = (registry: Registry): http.RequestListener => (_req, res) => {
      registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text), () => res.writeHead(500).end());
    };
    const bots = await serve(metricsHandler(exporters.bots));
    botsServer = bots.server;
    const backend = await serve(metricsHandler(exporters.backend));
    backendServer = backend.server;
    prometheus = await startPrometheus({
      port: await freePort(),
      workDir: path.join(dir, 'prom'),
      logFile: path.join(dir, 'prometheus.log'),
      targets: [
        { job: 'bots', target: `127.0.0.1:${bots.port}` },
        { job: 'backend', target: `127.0.0.1:${backend.port}` },
      ],
    });
    const start = Date.now();
    // rate() needs two samples inside its window; scrape interval is 1 s: wait for ~5 scrapes, bounded.
    let series = await fetchPanelSeries(prometheus.url, PANEL_CATALOGUE, { start: start - 1000, end: Date.now(), stepSeconds: 1 });
    for (let attempt = 0; attempt < 40; attempt++) {
      const p99 = series.find((panel) => panel.panelId === 'action-latency-p99');
      const rate = series.find((panel) => panel.panelId === 'bot-actions-by-result');
      if ((p99?.lines.length ?? 0) > 0 && (rate?.lines[0]?.points.length ?? 0) >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
      series = await fetchPanelSeries(prometheus.url, PANEL_CATALOGUE, { start: start - 1000, end: Date.now(), stepSeconds: 1 });
    }

    expect(series.map((panel) => panel.panelId)).toEqual(PANEL_CATALOGUE.map((panel) => panel.id));
    expect(series.filter((panel) => panel.error).map((panel) => `${panel.panelId}: ${panel.error}`)).toEqual([]);
    for (const id of ['bots-online', 'sessions-online', 'bot-actions-by-result', 'actions-applied-rate', 'action-latency-p50', 'action-latency-p99']) {
      const panel = series.find((p) => p.panelId === id);
      expect({ id, points: (panel?.lines[0]?.points.length ?? 0) > 0 }).toEqual({ id, points: true });
    }
    const p99 = series.find((panel) => panel.panelId === 'action-latency-p99');
    expect(p99?.lines.map((line) => line.label).sort()).toEqual(['buy', 'collect']);
    for (const [, value] of p99?.lines[0].points ?? []) expect(value).toBeGreaterThan(0.001);
    expect(p99?.expr).not.toContain('$__');
    // metrics nobody served: empty, not an error
    expect(series.find((panel) => panel.panelId === 'wal-bytes-rate')?.lines).toEqual([]);
  });
});

describe('fetchPanelSeries failures', () => {
  it('reports a timeout per panel instead of hanging', async () => {
    const { server, port } = await serve(() => undefined); // never answers
    try {
      const startedAt = Date.now();
      const series = await fetchPanelSeries(`http://127.0.0.1:${port}`, PANEL_CATALOGUE.slice(0, 3), { start: 0, end: 60_000, stepSeconds: 1, timeoutMs: 300 });
      expect(Date.now() - startedAt).toBeLessThan(3000);
      expect(series.map((panel) => panel.error)).toEqual(Array(3).fill(`query to http://127.0.0.1:${port} failed: timed out after 300 ms`));
    } finally {
      await close(server);
    }
  });

  it("passes Prometheus' error text through", async () => {
    const { server, port } = await serve((_req, res) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' })));
    try {
      const [panel] = await fetchPanelSeries(`http://127.0.0.1:${port}`, PANEL_CATALOGUE.slice(0, 1), { start: 0, end: 60_000, stepSeconds: 1 });
      expect(panel.error).toBe('HTTP 400: bad_data: parse error at char 5');
      expect(panel.lines).toEqual([]);
    } finally {
      await close(server);
    }
  });

  it('rejects an empty range with a clear error', async () => {
    await expect(fetchPanelSeries('http://127.0.0.1:1', PANEL_CATALOGUE, { start: 10, end: 10, stepSeconds: 1 })).rejects.toThrow('end (10) must be after start (10)');
  });

  it('fills legends from labels', () => {
    expect(formatLegend('{{kind}} / {{ result }}', { kind: 'buy', result: 'ok' })).toBe('buy / ok');
    expect(formatLegend(undefined, { __name__: 'x', job: 'bots' })).toBe('job=bots');
  });
});
