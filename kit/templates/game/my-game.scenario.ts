/**
 * A first scenario for my-game: 8 players for 10 s, 200 ms of extra latency on the bots' link in
 * the middle, then a 5 s recovery window. Run it: `npx lagstorm run <this file>`.
 * REPLACE / extend: more bots, other faults (README "Faults"), SLOs. Against a backend you started
 * yourself, add `target: { url: 'ws://127.0.0.1:PORT', adminUrl: 'http://127.0.0.1:PORT' }`.
 */
import { defineScenario } from 'lagstorm';

export default defineScenario({
  name: 'my-game-first',
  game: './index.ts',
  duration: '10s',
  recovery: { window: '5s', reconnectWithin: '5s' },
  bots: { players: { profile: 'player', count: 8, ramp: '1s' } },
  faults: {
    timeline: [{ at: '3s', duration: '3s', fault: 'latency', params: { link: 'bots-backend', latency: 200 } }],
  },
  slos: {
    action_rtt: { baseline: 'p(99)<100ms', fault: 'p(99)<2s', recovery: 'p(99)<500ms' },
    time_to_recover: '<5s',
  },
});
