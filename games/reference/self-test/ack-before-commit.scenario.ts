import { defineScenario } from 'lagstorm';

/** Acks sent before the commit: a SIGKILL under load loses actions the players saw acknowledged. */
export const caughtBy = ['acked-durable', 'monotonic'];

export default defineScenario({
  name: 'selftest-ack-before-commit',
  backend: { defect: 'ack-before-commit' },
  duration: '10s',
  recovery: { window: '5s', reconnectWithin: '8s' },
  bots: {
    grinders: { profile: 'grinder', count: 16, ramp: '1s' },
  },
  faults: { timeline: [{ at: '5s', duration: '2s', fault: 'backend-crash', params: {} }] },
});
