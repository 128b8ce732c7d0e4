import { defineScenario } from 'lagstorm';

/** Gift pushes dropped right after a resume: churning players' models fall out of step with the server. */
export const caughtBy = ['no-desync'];

export default defineScenario({
  name: 'selftest-lost-push',
  backend: { defect: 'lost-push' },
  duration: '24s',
  recovery: { window: '4s', reconnectWithin: '8s' },
  bots: {
    churners: { profile: 'churner', count: 8, ramp: '1s' },
    gifters: { profile: 'gifter', count: 12, ramp: '1s', giftTo: 'churners' },
  },
});
