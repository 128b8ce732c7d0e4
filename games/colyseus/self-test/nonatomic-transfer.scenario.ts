import { defineScenario } from 'lagstorm';

/** A transfer's second leg in its own transaction: cutting the database link between the legs destroys gems. */
export const caughtBy = ['transfers-conserved'];

export default defineScenario({
  name: 'selftest-colyseus-nonatomic-transfer',
  game: 'colyseus',
  backend: { defect: 'nonatomic-transfer' },
  duration: '14s',
  recovery: { window: '4s', reconnectWithin: '8s' },
  bots: {
    traders: { profile: 'trader', count: 12, ramp: '1s' },
  },
  faults: {
    timeline: [
      { at: '3s', duration: '1s', fault: 'link-down', params: { link: 'backend-db' } },
      { at: '6s', duration: '1s', fault: 'link-down', params: { link: 'backend-db' } },
      { at: '9s', duration: '1s', fault: 'link-down', params: { link: 'backend-db' } },
    ],
  },
});
