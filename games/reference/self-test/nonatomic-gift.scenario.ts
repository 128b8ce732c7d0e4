import { defineScenario } from 'lagstorm';

/** A gift's credit leg in its own transaction: cutting the database link between the legs destroys gold. */
export const caughtBy = ['conservation', 'exactly-once'];

export default defineScenario({
  name: 'selftest-nonatomic-gift',
  backend: { defect: 'nonatomic-gift' },
  duration: '16s',
  recovery: { window: '6s', reconnectWithin: '10s' },
  bots: {
    gifters: { profile: 'gifter', count: 16, ramp: '1s' },
  },
  faults: {
    timeline: [
      { at: '3s', duration: '1s', fault: 'link-down', params: { link: 'backend-db' } },
      { at: '6s', duration: '1s', fault: 'link-down', params: { link: 'backend-db' } },
      { at: '9s', duration: '1s', fault: 'link-down', params: { link: 'backend-db' } },
      { at: '12s', duration: '1s', fault: 'link-down', params: { link: 'backend-db' } },
    ],
  },
});
