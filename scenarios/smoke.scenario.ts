import { defineScenario } from 'lagstorm';

/**
 * The smoke run: a small mixed player population against the reference backend, one network
 * fault and one crash, every checker on, SLOs per phase. About 40 seconds end to end.
 */
export default defineScenario({
  name: 'smoke',
  description: 'Mixed players through link latency and a backend crash; every checker on.',
  duration: '24s',
  recovery: { window: '8s', reconnectWithin: '8s' },
  bots: {
    casual: { profile: 'casual', count: 12, ramp: '2s' },
    gifters: { profile: 'gifter', count: 6, ramp: '2s' },
    churners: { profile: 'churner', count: 4, ramp: '2s' },
    grinders: { profile: 'grinder', count: 4, ramp: '2s' },
  },
  faults: {
    timeline: [
      { at: '6s', duration: '5s', fault: 'latency', params: { link: 'bots-backend', latency: 150, jitter: 50 } },
      { at: '14s', duration: '3s', fault: 'backend-crash', params: {} },
    ],
  },
  slos: {
    // During the crash, actions wait for the reconnect (latency counts from the intended send time).
    action_rtt: { baseline: 'p(99)<50ms', fault: 'p(99)<10s', recovery: 'p(99)<5s' },
    error_rate: { baseline: 'rate<1%' },
    time_to_recover: '<8s',
  },
});
