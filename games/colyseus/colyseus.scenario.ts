import { defineScenario } from 'lagstorm';

/**
 * The Colyseus example end to end: latency on the players' link, the database link cut twice, the
 * players' link cut once, and the backend SIGKILLed. With the correct server every check the game feeds must pass.
 */
export default defineScenario({
  name: 'colyseus',
  description: 'A Colyseus room server on PostgreSQL through latency, database link cuts and a crash',
  game: './index.ts',
  duration: '15s',
  recovery: { window: '4s', reconnectWithin: '8s' },
  bots: {
    miners: { profile: 'miner', count: 8, ramp: '1s' },
    traders: { profile: 'trader', count: 6, ramp: '1s' },
  },
  faults: {
    timeline: [
      { at: '2s', duration: '2s', fault: 'latency', params: { link: 'bots-backend', latency: 80 } },
      { at: '5s', duration: '1s', fault: 'link-down', params: { link: 'backend-db' } },
      // Players' links cut: Colyseus holds their seats and the clients `reconnect()` to them.
      { at: '6500ms', duration: '1s', fault: 'link-down', params: { link: 'bots-backend' } },
      { at: '8s', duration: '2s', fault: 'backend-crash', params: {} },
      { at: '12s', duration: '1s', fault: 'link-down', params: { link: 'backend-db' } },
    ],
  },
  slos: { time_to_recover: '<8s' },
});
