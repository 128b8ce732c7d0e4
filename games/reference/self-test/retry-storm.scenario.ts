import { defineScenario } from 'lagstorm';

/**
 * Database errors retried at once, without backoff or jitter. With one group committer the players
 * barely notice a short outage, but the backend hammers the database link thousands of times a
 * second: the SLO on the backend's own retry rate (from the run's Prometheus) catches it.
 */
export const caughtBy = ['slo:prometheus:db_retries'];

export default defineScenario({
  name: 'selftest-retry-storm',
  backend: { defect: 'retry-storm' },
  duration: '14s',
  recovery: { window: '6s', reconnectWithin: '10s' },
  bots: {
    grinders: { profile: 'grinder', count: 10, ramp: '1s' },
  },
  faults: { timeline: [{ at: '4s', duration: '4s', fault: 'link-down', params: { link: 'backend-db' } }] },
  slos: {
    action_rtt: { baseline: 'p(99)<100ms', recovery: 'p(99)<2s' },
    prometheus: {
      // Capped exponential backoff keeps a 4 s outage to a few dozen retries.
      db_retries: { query: 'sum(rate(game_db_retries_total[5s]))', run: 'max<50' },
    },
  },
});
