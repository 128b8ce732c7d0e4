import { defineScenario } from 'lagstorm';

/**
 * Incident: a stuck replication slot fills the WAL disk. A replica (or a CDC consumer) stops
 * reading its slot; PostgreSQL keeps every WAL segment since, pg_wal grows until its volume is
 * full and the server PANICs ("No space left on device"). Needs root (loop volume, mount).
 *
 * Shows: first a stuck slot pins WAL for 6 s while a bulk writer adds ~4 MB/s (observations:
 * retainedBytes, 20-40 MB here, and walStatus); then pg_wal is moved to a 64 MB loop volume, pinned by
 * a slot and flooded until PostgreSQL PANICs, and the database stays down for the rest of the 8 s
 * window; heal moves the WAL back and crash recovery runs. The reference backend survives it:
 * every action it acknowledged is durable, nothing is applied twice, gold is conserved and every
 * player completes an action again within seconds of the heal.
 *
 * Run (as root): node bin/lagstorm.js run scenarios/incidents/stuck-slot-disk-full.scenario.ts
 * Takes about 40 s (20 s of play + 10 s recovery + stack start and teardown).
 */
export default defineScenario({
  name: 'incident-stuck-slot-disk-full',
  description: 'A stuck slot retains WAL, then a slot-pinned pg_wal volume fills up and PostgreSQL PANICs.',
  duration: '20s',
  recovery: { window: '10s', reconnectWithin: '10s' },
  bots: {
    grinders: { profile: 'grinder', count: 12, ramp: '2s' },
    gifters: { profile: 'gifter', count: 12, ramp: '2s' },
  },
  faults: {
    timeline: [
      { at: '4s', duration: '6s', fault: 'stuck-slot', params: { capMb: 1024 } },
      // A busy writer while nobody reads the slot: the retained WAL grows by megabytes a second.
      { at: '4s', duration: '5s', fault: 'wal-flood', params: { rateMbPerSecond: 4, tableMb: 16 } },
      // 8 s: moving pg_wal takes ~2 s and on a busy machine filling 64 MB takes seconds more; a window that
      // ends before the PANIC did not bite (seen here: a 6 s window on 2 loaded cores never filled the volume).
      { at: '11s', duration: '8s', fault: 'wal-disk-full', params: { sizeMb: 64, maxFillTime: '7s' } },
    ],
  },
  slos: {
    action_rtt: { baseline: 'p(99)<50ms', recovery: 'p(99)<2s' },
    error_rate: { baseline: 'rate<1%' },
    time_to_recover: '<5s',
  },
});
