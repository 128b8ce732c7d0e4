import { defineScenario } from 'lagstorm';

/** Database errors retried at once, without backoff or jitter: latency collapses when the database flaps. */
export const caughtBy = ['slo:action_rtt', 'slo:error_rate'];

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
    action_rtt: { recovery: 'p(99)<1s' },
    error_rate: { fault: 'rate<5%', recovery: 'rate<1%' },
  },
});
