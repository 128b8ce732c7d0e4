/** prom-client metrics; the names are a contract with the dashboards (dashboards/metric-names.ts). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ERROR_CODES } from '../rules/protocol';

export type BackendMetrics = ReturnType<typeof createMetrics>;

/** Every code starts at 0, so an error-free run still has the series (dashboards show 0, not "no data"). */
function errorCounter(registry: Registry) {
  const counter = new Counter({ name: 'game_errors_total', help: 'Error messages sent, by protocol code', labelNames: ['code'] as const, registers: [registry] });
  for (const code of ERROR_CODES) counter.labels({ code }).inc(0);
  return counter;
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let countOnline = () => 0;
  return {
    registry,
    /** Counted when scraped (once a second), not on every login and logout of a login storm. */
    sessionsOnline: new Gauge({
      name: 'game_sessions_online',
      help: 'Sessions online (logged in)',
      registers: [registry],
      collect() {
        this.set(countOnline());
      },
    }),
    countSessionsOnlineWith(count: () => number): void {
      countOnline = count;
    },
    actions: new Counter({
      name: 'game_actions_total',
      help: 'Client actions by kind and outcome (applied|rejected|duplicate|error|shed)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    actionDuration: new Histogram({
      name: 'game_action_duration_seconds',
      help: 'Receipt of an action to its ack being sent',
      labelNames: ['kind'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    dbQueryDuration: new Histogram({
      name: 'game_db_query_duration_seconds',
      help: 'Database query time by operation',
      labelNames: ['op'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'game_queue_depth', help: 'Actions waiting for the database', registers: [registry] }),
    reconnects: new Counter({ name: 'game_reconnects_total', help: 'Sessions resumed (hello for an existing player)', registers: [registry] }),
    errors: errorCounter(registry),
    gifts: new Counter({ name: 'game_gifts_total', help: 'Gifts credited to recipients', registers: [registry] }),
    // Additive (not in the panel catalogue yet): shows a retry storm directly.
    dbRetries: new Counter({ name: 'game_db_retries_total', help: 'Database write attempts that failed and were retried', registers: [registry] }),
    batchSize: new Histogram({
      name: 'game_commit_batch_size',
      help: 'Work items per group-commit transaction',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: [registry],
    }),
  };
}
