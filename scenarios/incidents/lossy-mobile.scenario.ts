import { defineScenario } from 'lagstorm';

/**
 * Incident: mobile clients on a lossy link. Players on a congested cell network see packet loss,
 * high and jittery latency and a thin pipe; TCP retransmits stall the WebSocket, heartbeats time
 * out, and clients reconnect and resend their unacknowledged actions.
 *
 * Shows: 50 % real packet loss on the bots→backend port (nftables, needs root) for 10 s, inside
 * 13 s of 150 ms ± 100 ms latency each way and a 32 KB/s downstream cap (Toxiproxy), with
 * mobile-style client settings (2 s heartbeat, 1.5 s pong timeout, patient reconnect). Stalled
 * links end in pong timeouts (info operations) and reconnects; resent actions must not apply
 * twice, every ack stays durable, and every player is back to normal latency after the heal.
 *
 * Run (as root): node bin/lagstorm.js run scenarios/incidents/lossy-mobile.scenario.ts
 * Takes about 40 s (20 s of play + 10 s recovery + stack start and teardown).
 */
export default defineScenario({
  name: 'incident-lossy-mobile',
  description: 'Mobile clients through packet loss, jittery latency and a bandwidth cap; heartbeats time out, clients reconnect and resend.',
  duration: '20s',
  recovery: { window: '10s', reconnectWithin: '10s' },
  client: {
    pingInterval: '2s',
    pongTimeout: '1500ms',
    connectTimeout: '4s',
    actionTimeout: '8s',
    reconnect: { backoffBase: '500ms', backoffCap: '4s', maxAttempts: 40 },
  },
  bots: {
    gifters: { profile: 'gifter', count: 20, ramp: '2s' },
    grinders: { profile: 'grinder', count: 8, ramp: '2s' },
    churners: { profile: 'churner', count: 8, ramp: '2s' },
  },
  faults: {
    timeline: [
      { at: '4s', duration: '13s', fault: 'latency', params: { link: 'bots-backend', stream: 'both', latency: 150, jitter: 100 } },
      { at: '4s', duration: '13s', fault: 'bandwidth', params: { link: 'bots-backend', stream: 'downstream', rate: 32 } },
      { at: '6s', duration: '10s', fault: 'kernel-packet-loss', params: { target: 'bots-backend', percent: 50, direction: 'both' } },
    ],
  },
  slos: {
    // The baseline is 4 s with a 2 s ramp (~100 actions): its p99 is one cold-start outlier, so judge p95.
    action_rtt: { baseline: 'p(95)<50ms', fault: 'p(99)<20s', recovery: 'p(99)<2s' },
    error_rate: { baseline: 'rate<1%', recovery: 'rate<1%' },
    time_to_recover: '<10s',
  },
});
