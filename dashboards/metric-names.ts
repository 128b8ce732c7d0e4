/**
 * Every metric name the backend, the bot fleet and the PostgreSQL collector export
 * (contract: METRICS.md). The panel catalogue may reference only these.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';
export type ScrapeJob = 'backend' | 'bots' | 'postgres';

export interface KnownMetric {
  name: string;
  type: MetricType;
  job: ScrapeJob;
  help: string;
}

export const KNOWN_METRICS: readonly KnownMetric[] = [
  // backend
  { name: 'game_sessions_online', type: 'gauge', job: 'backend', help: 'Sessions online' },
  { name: 'game_actions_total', type: 'counter', job: 'backend', help: 'Actions by kind and outcome' },
  { name: 'game_action_duration_seconds', type: 'histogram', job: 'backend', help: 'Action receipt to ack' },
  { name: 'game_db_query_duration_seconds', type: 'histogram', job: 'backend', help: 'Database query time by op' },
  { name: 'game_queue_depth', type: 'gauge', job: 'backend', help: 'Actions waiting for the database' },
  { name: 'game_reconnects_total', type: 'counter', job: 'backend', help: 'Sessions resumed' },
  { name: 'game_errors_total', type: 'counter', job: 'backend', help: 'Errors by protocol code' },
  { name: 'game_gifts_total', type: 'counter', job: 'backend', help: 'Gifts delivered' },
  { name: 'game_db_retries_total', type: 'counter', job: 'backend', help: 'Database write attempts that failed and were retried' },
  { name: 'game_commit_batch_size', type: 'histogram', job: 'backend', help: 'Work items per group-commit transaction' },
  { name: 'process_cpu_seconds_total', type: 'counter', job: 'backend', help: 'Process CPU time' },
  { name: 'nodejs_eventloop_lag_p99_seconds', type: 'gauge', job: 'backend', help: 'Event loop lag p99' },
  { name: 'process_resident_memory_bytes', type: 'gauge', job: 'backend', help: 'Resident memory' },
  // bot fleet
  { name: 'lagstorm_bots_online', type: 'gauge', job: 'bots', help: 'Bots connected' },
  { name: 'lagstorm_bot_actions_total', type: 'counter', job: 'bots', help: 'Bot actions by kind and result' },
  { name: 'lagstorm_bot_action_rtt_seconds', type: 'histogram', job: 'bots', help: 'Action RTT from the intended send time' },
  { name: 'lagstorm_bot_session_resume_seconds', type: 'histogram', job: 'bots', help: 'Time to resume a session' },
  { name: 'lagstorm_bot_reconnects_total', type: 'counter', job: 'bots', help: 'Bot reconnects' },
  { name: 'lagstorm_bot_desyncs_total', type: 'counter', job: 'bots', help: 'Bot-detected desyncs' },
  { name: 'lagstorm_bot_gave_up_total', type: 'counter', job: 'bots', help: 'Bots that gave up reconnecting' },
  { name: 'lagstorm_loadgen_cpu_ratio', type: 'gauge', job: 'bots', help: 'Load generator CPU (0..1 of all cores)' },
  { name: 'lagstorm_loadgen_event_loop_lag_seconds', type: 'gauge', job: 'bots', help: 'Load generator event loop lag p99' },
  { name: 'lagstorm_fault_active', type: 'gauge', job: 'bots', help: 'Fault active (0/1) by fault' },
  // PostgreSQL collector
  { name: 'lagstorm_pg_up', type: 'gauge', job: 'postgres', help: 'PostgreSQL reachable' },
  { name: 'lagstorm_pg_wal_records_total', type: 'counter', job: 'postgres', help: 'WAL records' },
  { name: 'lagstorm_pg_wal_fpi_total', type: 'counter', job: 'postgres', help: 'WAL full-page images' },
  { name: 'lagstorm_pg_wal_bytes_total', type: 'counter', job: 'postgres', help: 'WAL bytes' },
  { name: 'lagstorm_pg_wal_buffers_full_total', type: 'counter', job: 'postgres', help: 'WAL buffers full events' },
  { name: 'lagstorm_pg_wal_write_time_seconds_total', type: 'counter', job: 'postgres', help: 'WAL write time' },
  { name: 'lagstorm_pg_wal_sync_time_seconds_total', type: 'counter', job: 'postgres', help: 'WAL sync time' },
  { name: 'lagstorm_pg_checkpoints_timed_total', type: 'counter', job: 'postgres', help: 'Timed checkpoints' },
  { name: 'lagstorm_pg_checkpoints_requested_total', type: 'counter', job: 'postgres', help: 'Requested checkpoints' },
  { name: 'lagstorm_pg_xact_commit_total', type: 'counter', job: 'postgres', help: 'Commits' },
  { name: 'lagstorm_pg_xact_rollback_total', type: 'counter', job: 'postgres', help: 'Rollbacks' },
  { name: 'lagstorm_pg_deadlocks_total', type: 'counter', job: 'postgres', help: 'Deadlocks' },
  { name: 'lagstorm_pg_wal_dir_bytes', type: 'gauge', job: 'postgres', help: 'Size of pg_wal' },
  { name: 'lagstorm_pg_replication_slot_retained_bytes', type: 'gauge', job: 'postgres', help: 'WAL retained per replication slot' },
];

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

/** True for a known metric, or a histogram's _bucket/_sum/_count series. */
export function isKnownMetricName(name: string): boolean {
  for (const metric of KNOWN_METRICS) {
    if (metric.name === name) return true;
    if (metric.type === 'histogram' && HISTOGRAM_SUFFIXES.some((suffix) => metric.name + suffix === name)) return true;
  }
  return false;
}
