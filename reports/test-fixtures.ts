/**
 * A realistic failing run for reporter tests: a backend crash lost an acknowledged action
 * (acked-durable invalid), an SLO broke during the fault, and a checker could not decide.
 * The series cover every catalogue panel with plausible shapes around the fault windows.
 */
import type { AgentSummary, RunSummary } from '../core/summary';
import { PANEL_CATALOGUE, type CataloguePanel } from '../dashboards/catalogue';
import type { PanelSeries } from '../dashboards/prometheus-query';
import { formatLegend } from '../dashboards/prometheus-query';

export const FIXTURE_STARTED_AT = '2026-11-03T10:00:00.000Z';

export function failingRunSummary(runDir: string): RunSummary {
  return {
    runId: '20261103-100000-smoke-42',
    scenario: 'smoke',
    seed: 42,
    verdict: 'fail',
    exitCode: 1,
    startedAt: FIXTURE_STARTED_AT,
    finishedAt: '2026-11-03T10:02:00.000Z',
    durationMs: 120_000,
    runDir,
    checks: [
      {
        name: 'acked-durable',
        valid: false,
        summary: '1 acknowledged action missing after backend-crash <lost>',
        first: { index: 4812, type: 'ok', process: 'bot-7', player: 'p-0007', f: 'buy', seq: 31, value: { item: 'sword' }, intendedAt: 61_204, time: 61_219, version: 44 },
        worst: { index: 4812, type: 'ok', process: 'bot-7', player: 'p-0007', f: 'buy', seq: 31 },
        offendingCount: 1,
      },
      { name: 'exactly-once', valid: true, summary: 'no action or gift applied twice (1 204 gifts)' },
      { name: 'conservation', valid: true, summary: 'gold conserved: 250 000 = sources − sinks' },
      { name: 'no-desync', valid: true, summary: 'no bot saw a checksum it did not predict' },
      { name: 'recovery', valid: 'unknown', summary: 'recovery undecided: 2 bots still reconnecting at run end', error: 'timed out reading final sessions' },
    ],
    slos: [
      { metric: 'action-latency', phase: 'baseline', limit: 'p(99)<50ms', observed: 12.4, unit: 'ms', ok: true, samples: 3_900 },
      { metric: 'error-rate', phase: 'baseline', limit: 'rate<1%', observed: 0.0004, unit: 'ratio', ok: true, samples: 3_900 },
      { metric: 'action-latency', phase: 'fault', limit: 'p(99)<200ms', observed: 1_840, unit: 'ms', ok: false, samples: 2_100 },
      { metric: 'error-rate', phase: 'fault', limit: 'rate<5%', observed: 0.031, unit: 'ratio', ok: true, samples: 2_100 },
      { metric: 'action-latency', phase: 'recovery', limit: 'p(99)<50ms', observed: null, unit: 'ms', ok: 'unknown', samples: 0 },
      { metric: 'time-to-recover', phase: 'run', limit: '<10s', observed: 4_200, unit: 'ms', ok: true, samples: 1 },
    ],
    faults: [
      { id: 'f1', fault: 'latency', params: { latencyMs: 150, link: 'bots-backend' }, startedAt: 30_000, stoppedAt: 50_000, healed: true },
      { id: 'f2', fault: 'backend-crash', params: { signal: 'SIGKILL' }, startedAt: 60_000, stoppedAt: 64_000, healed: true, observations: { downtimeMs: 3_900 } },
    ],
    stats: {
      bots: 20,
      actions: { invoked: 9_600, ok: 9_350, fail: 180, info: 70 },
      actionsPerSecond: 80,
      latency: {
        collect: { count: 4_000, p50: 4.1, p95: 9.8, p99: 310, max: 2_100, mean: 14 },
        buy: { count: 3_000, p50: 4.6, p95: 11.2, p99: 402, max: 2_240, mean: 17 },
        all: { count: 9_350, p50: 4.4, p95: 10.9, p99: 388, max: 2_240, mean: 16 },
      },
      latencyByPhase: {},
      reconnects: 40,
      desyncs: 0,
      gaveUp: 0,
      droppedArrivals: 0,
      loadGenerator: { cpuPeakRatio: 0.41, eventLoopLagP99Ms: 3.2, saturated: false },
      proxyBaselineMs: 0.4,
    },
    errors: [],
    artifacts: {},
  };
}

/**
 * The agents of a `run --agents 2` that lost agent 1: agent 0 finished with every field, agent 1
 * was killed before its clock was measured (no offset, no same-machine offset).
 */
export function agentsFixture(): AgentSummary[] {
  return [
    { index: 0, segment: '0:1/2', where: 'pid 4242', bots: 10, clockOffsetMs: 1.3, clockErrorMs: 2, sameMachineOffsetMs: 0, batches: 480, entries: 4_810, wireBytes: 45_000, state: 'done', pid: 4242, ended: 'exited with code 0' },
    { index: 1, segment: '1/2:1', where: 'pid 4243', bots: 10, batches: 12, entries: 96, state: 'lost', pid: 4243, ended: 'killed by SIGKILL' },
  ];
}

function valueAt(panel: CataloguePanel, seriesIndex: number, tSec: number): number {
  const inLatency = tSec >= 30 && tSec < 50;
  const inCrash = tSec >= 60 && tSec < 64;
  const wobble = Math.sin(tSec / 3 + seriesIndex) * 0.1 + 1;
  switch (panel.unit) {
    case 's':
      return (inCrash ? 1.8 : inLatency ? 0.16 : 0.005) * wobble * (1 + seriesIndex * 0.2);
    case 'bool':
      return panel.id === 'pg-up' ? 1 : (seriesIndex === 0 ? inLatency : inCrash) ? 1 : 0;
    case 'percentunit':
      return Math.min(1, 0.3 * wobble);
    case 'bytes':
    case 'Bps':
      return 1_048_576 * (2 + tSec / 40) * wobble;
    default:
      return inCrash ? 2 : 20 * wobble * (1 + seriesIndex);
  }
}

const LABELS: Record<string, Array<Record<string, string>>> = {
  kind: [{ kind: 'collect' }, { kind: 'buy' }, { kind: 'upgrade' }],
  result: [{ result: 'ok' }, { result: 'fail' }, { result: 'info' }],
  outcome: [{ outcome: 'rejected' }, { outcome: 'error' }],
  code: [{ code: 'internal' }, { code: 'overloaded' }],
  op: [{ op: 'apply-action' }, { op: 'load-player' }],
  fault: [{ fault: 'latency' }, { fault: 'backend-crash' }],
  slot: [{ slot: 'lagstorm_stuck' }],
};

/** Series for every catalogue panel, one point every 2 s over the fixture run. */
export function seriesFixture(catalogue: readonly CataloguePanel[] = PANEL_CATALOGUE): PanelSeries[] {
  const start = Date.parse(FIXTURE_STARTED_AT);
  return catalogue.map((panel) => {
    const label = /\{\{(\w+)\}\}/.exec(panel.legend ?? '')?.[1];
    const labelSets = label && LABELS[label] ? LABELS[label] : [{}];
    return {
      panelId: panel.id,
      title: panel.title,
      row: panel.row,
      unit: panel.unit,
      expr: panel.expr.replace(/\$__rate_interval/g, '4s'),
      lines: labelSets.map((labels, index) => ({
        label: formatLegend(panel.legend, labels),
        labels,
        points: Array.from({ length: 61 }, (_, i): [number, number] => [start + i * 2000, valueAt(panel, index, i * 2)]),
      })),
    };
  });
}
