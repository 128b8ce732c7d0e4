import { defineScenario } from 'lagstorm';

/** The WebSocket listener binds 127.0.0.1 only: IPv6-only clients cannot connect and give up. */
export const caughtBy = ['recovery'];

export default defineScenario({
  name: 'selftest-ipv4-only',
  backend: { defect: 'ipv4-only' },
  duration: '10s',
  recovery: { window: '2s', reconnectWithin: '5s' },
  client: { reconnect: { backoffBase: '100ms', backoffCap: '500ms', maxAttempts: 5 } },
  bots: {
    v4: { profile: 'casual', count: 4, ramp: '1s' },
    v6: { profile: 'casual', count: 4, ramp: '1s', ipv6: true },
  },
});
