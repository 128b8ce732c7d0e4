import { defineScenario } from 'lagstorm';

/**
 * Incident: a WAL checkpoint storm. Someone shrank max_wal_size (or a bulk job writes far more WAL
 * than usual) and PostgreSQL checkpoints back to back: every checkpoint flushes dirty pages and
 * makes the next change of each page write a full-page image, so WAL volume and fsync pressure
 * multiply while players keep committing.
 *
 * Shows: `checkpoint-storm` (max_wal_size 32MB, checkpoint_timeout 30s) with a paced bulk writer
 * (`wal-flood`, 8 MB/s over a 32 MB table) for 12 s: 8 requested checkpoints, one every ~1.5 s
 * (the fault's observations count them; under the defaults, 1GB and 5min, the ~120 MB written
 * trigger none besides the writer's own initial CHECKPOINT). Players' action latency is judged per
 * phase; every acknowledged action is durable and every checker holds.
 *
 * Run: node bin/lagstorm.js run scenarios/incidents/checkpoint-storm.scenario.ts
 * Takes about 35 s (20 s of play + 8 s recovery + stack start and teardown).
 */
export default defineScenario({
  name: 'incident-checkpoint-storm',
  description: 'Checkpoints back to back under a bulk WAL writer while players commit; action latency per phase.',
  duration: '20s',
  recovery: { window: '8s', reconnectWithin: '8s' },
  bots: {
    grinders: { profile: 'grinder', count: 25, ramp: '2s' },
    gifters: { profile: 'gifter', count: 25, ramp: '2s' },
  },
  faults: {
    timeline: [
      { at: '5s', duration: '12s', fault: 'checkpoint-storm', params: { maxWalSize: '32MB', checkpointTimeout: '30s' } },
      { at: '5s', duration: '12s', fault: 'wal-flood', params: { rateMbPerSecond: 8, tableMb: 32 } },
    ],
  },
  slos: {
    action_rtt: { baseline: 'p(99)<50ms', fault: 'p(99)<100ms', recovery: 'p(99)<50ms' },
    error_rate: { run: 'rate<1%' },
    time_to_recover: '<2s',
  },
});
