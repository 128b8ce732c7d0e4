import { defineScenario } from 'lagstorm';

/**
 * Incident: a hot player during a gifting event. A streamer goes live and fans pile in: most of
 * their gifts go to one player, and at the event's beat (every 1.5 s) the fans and a guild all act
 * at the same instant; clients pipeline (4 actions in flight, as real clients stream actions
 * without waiting for each ack). The guild's members pay into and draw from one shared bank at the
 * same beat. A short latency spike holds acks back, so pipelines fill.
 *
 * Shows: many changes to the same player (the streamer) and the same shared object (the guild
 * bank) inside one group commit; every checker judges them: gold conserved across players and the
 * bank, every acked deposit in the bank, no desync under optimistic clients. The correct backend
 * passes; `--defect bank-lost-update` fails it through `conservation` and `acked-effects`.
 *
 * Run: node bin/lagstorm.js run scenarios/incidents/hot-player-gifting-event.scenario.ts
 * Takes about 30 s (14 s of play + 5 s recovery + stack start and teardown).
 */
export default defineScenario({
  name: 'incident-hot-player-gifting-event',
  description: 'A streamer everyone gifts to, a guild bank hit at the same instant, pipelining clients, a latency spike.',
  duration: '14s',
  recovery: { window: '5s', reconnectWithin: '5s' },
  client: { pipeline: 4 },
  bots: {
    streamers: { profile: 'grinder', count: 3, ramp: '500ms' },
    fans: { profile: 'gifter', count: 20, ramp: '1s', giftTo: 'streamers', hotPlayers: { count: 1, share: 0.8 }, burst: { every: '1500ms', actions: 2 } },
    guild: { profile: 'guild-member', count: 12, ramp: '1s', burst: { every: '1500ms', actions: 2 } },
  },
  faults: {
    timeline: [{ at: '6s', duration: '3s', fault: 'latency', params: { link: 'bots-backend', latency: 200, jitter: 50 } }],
  },
  slos: {
    action_rtt: { baseline: 'p(99)<1s', fault: 'p(99)<3s', recovery: 'p(99)<1s' },
    error_rate: { run: 'rate<1%' },
    time_to_recover: '<5s',
  },
});
