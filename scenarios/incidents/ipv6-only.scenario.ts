import { defineScenario } from 'lagstorm';

/**
 * Incident: IPv6-only clients. A carrier moves its mobile users to IPv6-only, and a listener or
 * proxy that binds only 127.0.0.1 / 0.0.0.0 silently loses them; a network fault on the IPv6 path
 * then shows whether reconnects work over IPv6 too.
 *
 * Shows: every bot connects through [::1] (the `bots-backend-v6` link); 4 s of latency on that
 * link, then a 2 s outage of it. Every bot reconnects over IPv6 and plays on; all checkers hold.
 * (The planted `ipv4-only` defect, `--defect ipv4-only`, fails this scenario: nobody can connect.)
 *
 * Run: node bin/lagstorm.js run scenarios/incidents/ipv6-only.scenario.ts
 * Takes about 30 s (16 s of play + 7 s recovery + stack start and teardown).
 */
export default defineScenario({
  name: 'incident-ipv6-only',
  description: 'Every client on IPv6 only, through latency and an outage of the IPv6 link.',
  duration: '16s',
  recovery: { window: '7s', reconnectWithin: '8s' },
  client: { reconnect: { backoffBase: '200ms', backoffCap: '2s', maxAttempts: 20 } },
  bots: {
    gifters: { profile: 'gifter', count: 16, ramp: '2s', ipv6: true },
    grinders: { profile: 'grinder', count: 8, ramp: '2s', ipv6: true },
    churners: { profile: 'churner', count: 6, ramp: '2s', ipv6: true },
  },
  faults: {
    timeline: [
      { at: '4s', duration: '4s', fault: 'latency', params: { link: 'bots-backend-v6', latency: 100, jitter: 30 } },
      { at: '10s', duration: '2s', fault: 'link-down', params: { link: 'bots-backend-v6' } },
    ],
  },
  slos: {
    action_rtt: { baseline: 'p(99)<50ms', recovery: 'p(99)<3s' },
    session_resume: { recovery: 'p(99)<1s' },
    error_rate: { baseline: 'rate<1%' },
    time_to_recover: '<4s',
  },
});
