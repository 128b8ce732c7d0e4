import { defineScenario } from 'lagstorm';

/**
 * A guild-bank operation computed from the balance cached at the start of the group commit: only
 * when two bank operations share a commit does the last write win. No fault: contention alone
 * (a guild acting at the same instant, pipelining clients) exposes it; smoke load never does.
 */
export const caughtBy = ['conservation', 'acked-effects'];

export default defineScenario({
  name: 'selftest-bank-lost-update',
  backend: { defect: 'bank-lost-update' },
  duration: '8s',
  recovery: { window: '3s', reconnectWithin: '5s' },
  client: { pipeline: 4 },
  bots: {
    guild: { profile: 'guild-member', count: 12, ramp: '500ms', burst: { every: '1s', actions: 2 } },
  },
});
