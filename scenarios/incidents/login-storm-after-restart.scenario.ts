import { defineScenario } from 'lagstorm';

/**
 * Incident: a login storm after a restart. A deploy restarts the game server while a few hundred
 * players are online; every client sees its connection close at the same moment and, with the
 * eager reconnect policy many game clients ship (1 s backoff cap), all of them log in again
 * (resume with their token) within about a second of the new process coming up.
 *
 * Shows: 300 players online (ramped over 5 s), a graceful backend restart (SIGTERM, 3 s down,
 * start), then 300 resumes in ~1 s on top of normal play. Every player is playing again within
 * seconds of the restart, the resumes and the first actions after them stay fast, actions cut off
 * by the shutdown are resent and applied exactly once, and every checker holds.
 *
 * Players are gifters and grinders: their think time is bounded (≤ 10 s), so "did not act after
 * the heal" can only mean a real failure (a casual player's think time may reach 30 s).
 *
 * Run: node bin/lagstorm.js run scenarios/incidents/login-storm-after-restart.scenario.ts
 * Takes about 40 s (20 s of play + 10 s recovery + stack start and teardown).
 */
export default defineScenario({
  name: 'incident-login-storm-after-restart',
  description: '300 players online, graceful backend restart with 3 s downtime: everyone reconnects within a second.',
  duration: '20s',
  recovery: { window: '10s', reconnectWithin: '8s' },
  client: { reconnect: { backoffBase: '100ms', backoffCap: '1s', maxAttempts: 30 } },
  bots: {
    gifters: { profile: 'gifter', count: 240, ramp: '5s' },
    grinders: { profile: 'grinder', count: 60, ramp: '5s' },
  },
  faults: {
    // The restart (stop, 3 s down, start) takes longer than the 3 s window, so the window closes as
    // soon as the new process is up: the storm of resumes falls into the recovery phase.
    timeline: [{ at: '9s', duration: '3s', fault: 'backend-restart', params: { downtime: '3s' } }],
  },
  slos: {
    action_rtt: { baseline: 'p(99)<100ms', recovery: 'p(99)<2s' },
    session_resume: { recovery: 'p(99)<1s' },
    error_rate: { baseline: 'rate<1%', recovery: 'rate<1%' },
    time_to_recover: '<5s',
  },
});
