import { defineScenario } from 'lagstorm';

/**
 * State kept in room memory until the player leaves: a SIGKILL loses every change the players saw
 * acknowledged. The restarted server knows only the seqs saved before, so bots reuse seqs: the crash
 * comes late, so more acked seqs are lost than the short play after it can reuse.
 */
export const caughtBy = ['acked-effects', 'exactly-once-keys'];

export default defineScenario({
  name: 'selftest-colyseus-save-on-leave',
  game: 'colyseus',
  backend: { defect: 'save-on-leave' },
  duration: '14s',
  // 6 s after a crash at 10 s (+2 s down): long enough to judge every bot's recovery on a loaded machine
  // (3 s left some unjudged: `recovery` unknown, a control run in error), short enough to stay caught.
  recovery: { window: '6s', reconnectWithin: '8s' },
  bots: {
    // Miners never leave on their own: nothing is saved before the crash.
    miners: { profile: 'miner', count: 10, ramp: '1s' },
  },
  faults: { timeline: [{ at: '10s', duration: '2s', fault: 'backend-crash', params: {} }] },
});
