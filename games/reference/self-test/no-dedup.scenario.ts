import { defineScenario } from 'lagstorm';

/**
 * A resent action applied again. Acks held back on the bots→backend link make the bots' pings
 * time out; they reconnect and resend every unacknowledged action with its original seq.
 */
export const caughtBy = ['exactly-once', 'no-desync'];

export default defineScenario({
  name: 'selftest-no-dedup',
  backend: { defect: 'no-dedup' },
  duration: '14s',
  recovery: { window: '6s', reconnectWithin: '10s' },
  client: { pingInterval: '1s', pongTimeout: '1s' },
  bots: {
    grinders: { profile: 'grinder', count: 8, ramp: '1s' },
  },
  faults: { timeline: [{ at: '4s', duration: '5s', fault: 'latency', params: { link: 'bots-backend', stream: 'downstream', latency: 3000 } }] },
});
