/**
 * The one panel catalogue: Grafana dashboards and the HTML report draw the same panels from it,
 * so what CI shows and what an engineer opens in Grafana are the same graphs.
 */
export const PANEL_ROWS = [
  'Players and sessions',
  'Action latency',
  'Errors and reconnects',
  'Backend internals',
  'Database and WAL',
  'Load-generator health',
] as const;
export type PanelRow = (typeof PANEL_ROWS)[number];

/** Grafana unit ids (also used to format values in the HTML report). */
export type PanelUnit = 's' | 'short' | 'ops' | 'bytes' | 'Bps' | 'percentunit' | 'bool';

export interface PanelThreshold {
  /** Lower bound of the step; the first step has null (from -infinity). */
  value: number | null;
  color: 'green' | 'yellow' | 'orange' | 'red';
}

export interface CataloguePanel {
  /** Stable kebab-case id (file names, test ids, Grafana panel ids derive from it). */
  id: string;
  title: string;
  row: PanelRow;
  /** PromQL; may use Grafana's $__rate_interval, resolved by prometheus-query.ts outside Grafana. */
  expr: string;
  unit: PanelUnit;
  thresholds?: PanelThreshold[];
  /** Grafana legend format, e.g. '{{kind}}'. */
  legend?: string;
  description?: string;
}

const RATE = '[$__rate_interval]';

function quantileByKind(q: number, histogram: string, by: string): string {
  return `histogram_quantile(${q}, sum by (${by}, le) (rate(${histogram}_bucket${RATE})))`;
}

const latencyThresholds: PanelThreshold[] = [
  { value: null, color: 'green' },
  { value: 0.1, color: 'yellow' },
  { value: 0.5, color: 'red' },
];

export const PANEL_CATALOGUE: readonly CataloguePanel[] = [
  // Players and sessions
  { id: 'sessions-online', title: 'Sessions online (backend)', row: 'Players and sessions', expr: 'sum(game_sessions_online)', unit: 'short', legend: 'sessions' },
  { id: 'bots-online', title: 'Bots online (fleet)', row: 'Players and sessions', expr: 'sum(lagstorm_bots_online)', unit: 'short', legend: 'bots' },
  { id: 'actions-applied-rate', title: 'Actions applied per second by kind', row: 'Players and sessions', expr: `sum by (kind) (rate(game_actions_total{outcome="applied"}${RATE}))`, unit: 'ops', legend: '{{kind}}' },
  { id: 'bot-actions-by-result', title: 'Bot actions per second by result', row: 'Players and sessions', expr: `sum by (result) (rate(lagstorm_bot_actions_total${RATE}))`, unit: 'ops', legend: '{{result}}' },

  // Action latency (bot histograms: measured from the intended send time)
  { id: 'action-latency-p50', title: 'Action latency p50 by kind', row: 'Action latency', expr: quantileByKind(0.5, 'lagstorm_bot_action_rtt_seconds', 'kind'), unit: 's', legend: '{{kind}}', thresholds: latencyThresholds },
  { id: 'action-latency-p95', title: 'Action latency p95 by kind', row: 'Action latency', expr: quantileByKind(0.95, 'lagstorm_bot_action_rtt_seconds', 'kind'), unit: 's', legend: '{{kind}}', thresholds: latencyThresholds },
  { id: 'action-latency-p99', title: 'Action latency p99 by kind', row: 'Action latency', expr: quantileByKind(0.99, 'lagstorm_bot_action_rtt_seconds', 'kind'), unit: 's', legend: '{{kind}}', thresholds: latencyThresholds },
  { id: 'server-action-p99', title: 'Server-side action time p99 by kind', row: 'Action latency', expr: quantileByKind(0.99, 'game_action_duration_seconds', 'kind'), unit: 's', legend: '{{kind}}', description: 'Receipt of the action to the ack being sent, inside the backend.' },

  // Errors and reconnects
  { id: 'actions-not-applied', title: 'Actions not applied per second by outcome', row: 'Errors and reconnects', expr: `sum by (outcome) (rate(game_actions_total{outcome!="applied"}${RATE}))`, unit: 'ops', legend: '{{outcome}}' },
  { id: 'backend-errors', title: 'Backend errors per second by code', row: 'Errors and reconnects', expr: `sum by (code) (rate(game_errors_total${RATE}))`, unit: 'ops', legend: '{{code}}' },
  { id: 'reconnects', title: 'Sessions resumed per second (backend)', row: 'Errors and reconnects', expr: `sum(rate(game_reconnects_total${RATE}))`, unit: 'ops', legend: 'resumed' },
  { id: 'bot-reconnects', title: 'Bot reconnects per second', row: 'Errors and reconnects', expr: `sum(rate(lagstorm_bot_reconnects_total${RATE}))`, unit: 'ops', legend: 'reconnects' },
  { id: 'session-resume-p99', title: 'Session resume time p99', row: 'Errors and reconnects', expr: `histogram_quantile(0.99, sum by (le) (rate(lagstorm_bot_session_resume_seconds_bucket${RATE})))`, unit: 's', legend: 'p99' },
  { id: 'desyncs', title: 'Desyncs detected (total)', row: 'Errors and reconnects', expr: 'sum(lagstorm_bot_desyncs_total)', unit: 'short', legend: 'desyncs', thresholds: [{ value: null, color: 'green' }, { value: 1, color: 'red' }] },
  { id: 'faults-active', title: 'Faults active', row: 'Errors and reconnects', expr: 'max by (fault) (lagstorm_fault_active)', unit: 'bool', legend: '{{fault}}' },

  // Backend internals
  { id: 'queue-depth', title: 'Actions waiting for the database', row: 'Backend internals', expr: 'sum(game_queue_depth)', unit: 'short', legend: 'queued' },
  { id: 'db-query-p99', title: 'Database query time p99 by op', row: 'Backend internals', expr: quantileByKind(0.99, 'game_db_query_duration_seconds', 'op'), unit: 's', legend: '{{op}}' },
  { id: 'backend-event-loop-lag', title: 'Backend event loop lag p99', row: 'Backend internals', expr: 'max(nodejs_eventloop_lag_p99_seconds{job="backend"})', unit: 's', legend: 'lag p99' },
  { id: 'backend-cpu', title: 'Backend CPU (cores)', row: 'Backend internals', expr: `sum(rate(process_cpu_seconds_total{job="backend"}${RATE}))`, unit: 'short', legend: 'cores' },
  { id: 'backend-memory', title: 'Backend resident memory', row: 'Backend internals', expr: 'sum(process_resident_memory_bytes{job="backend"})', unit: 'bytes', legend: 'rss' },
  { id: 'gifts-rate', title: 'Gifts per second', row: 'Backend internals', expr: `sum(rate(game_gifts_total${RATE}))`, unit: 'ops', legend: 'gifts' },
  { id: 'db-retries-rate', title: 'Database retries per second (a retry storm shows here)', row: 'Backend internals', expr: `sum(rate(game_db_retries_total${RATE}))`, unit: 'ops', legend: 'retries' },

  // Database and WAL
  { id: 'pg-up', title: 'PostgreSQL up', row: 'Database and WAL', expr: 'min(lagstorm_pg_up)', unit: 'bool', legend: 'up', thresholds: [{ value: null, color: 'red' }, { value: 1, color: 'green' }] },
  { id: 'wal-bytes-rate', title: 'WAL written per second', row: 'Database and WAL', expr: `sum(rate(lagstorm_pg_wal_bytes_total${RATE}))`, unit: 'Bps', legend: 'WAL' },
  { id: 'wal-fpi-rate', title: 'WAL full-page images per second', row: 'Database and WAL', expr: `sum(rate(lagstorm_pg_wal_fpi_total${RATE}))`, unit: 'ops', legend: 'FPI' },
  { id: 'wal-records-rate', title: 'WAL records per second', row: 'Database and WAL', expr: `sum(rate(lagstorm_pg_wal_records_total${RATE}))`, unit: 'ops', legend: 'records' },
  { id: 'wal-sync-time', title: 'WAL sync time (share of wall time)', row: 'Database and WAL', expr: `sum(rate(lagstorm_pg_wal_sync_time_seconds_total${RATE}))`, unit: 'percentunit', legend: 'sync' },
  { id: 'wal-dir-size', title: 'pg_wal size', row: 'Database and WAL', expr: 'sum(lagstorm_pg_wal_dir_bytes)', unit: 'bytes', legend: 'pg_wal' },
  { id: 'checkpoints-requested', title: 'Requested checkpoints (total)', row: 'Database and WAL', expr: 'sum(lagstorm_pg_checkpoints_requested_total)', unit: 'short', legend: 'requested' },
  { id: 'commits-rate', title: 'Commits per second', row: 'Database and WAL', expr: `sum(rate(lagstorm_pg_xact_commit_total${RATE}))`, unit: 'ops', legend: 'commits' },
  { id: 'slot-retained', title: 'WAL retained by replication slots', row: 'Database and WAL', expr: 'sum(lagstorm_pg_replication_slot_retained_bytes) or vector(0)', unit: 'bytes', legend: 'retained' },

  // Load-generator health (latencies are overstated when the generator saturates)
  { id: 'loadgen-cpu', title: 'Load generator CPU (share of all cores)', row: 'Load-generator health', expr: 'max(lagstorm_loadgen_cpu_ratio)', unit: 'percentunit', legend: 'cpu', thresholds: [{ value: null, color: 'green' }, { value: 0.8, color: 'red' }] },
  { id: 'loadgen-event-loop-lag', title: 'Load generator event loop lag p99', row: 'Load-generator health', expr: 'max(lagstorm_loadgen_event_loop_lag_seconds)', unit: 's', legend: 'lag p99', thresholds: [{ value: null, color: 'green' }, { value: 0.05, color: 'red' }] },
  { id: 'bots-gave-up', title: 'Bots that gave up (total)', row: 'Load-generator health', expr: 'sum(lagstorm_bot_gave_up_total)', unit: 'short', legend: 'gave up' },
];

export function panelsByRow(catalogue: readonly CataloguePanel[] = PANEL_CATALOGUE): Array<{ row: PanelRow; panels: CataloguePanel[] }> {
  return PANEL_ROWS.map((row) => ({ row, panels: catalogue.filter((panel) => panel.row === row) })).filter((group) => group.panels.length > 0);
}
