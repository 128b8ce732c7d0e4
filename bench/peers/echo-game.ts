/**
 * The peer bench's game plug-in: one action, `ping`, acknowledged by the echo-ack server. The
 * bots still do everything they do against a real game (request ids, seqs, the history, metrics,
 * reconnect and resume); only the game is trivial, as it is for the peers.
 */
import { defineGame, webSocketJsonClient, type BehaviourProfile, type WebSocketJsonOptions } from '../../core';

type Reply = { id: number; ok: boolean };

/** The protocol, once for all bots. */
const ECHO_PROTOCOL: WebSocketJsonOptions<Reply> = {
  login: (_login, context) => ({ op: 'login', player: context.playerId }),
  loginResult: () => ({ value: {} }),
  request: (call) => ({ op: call.name, seq: call.seq }),
  classify: (reply) => (reply.ok ? { type: 'ok' } : { type: 'fail', error: 'refused' }),
};

const PINGER: BehaviourProfile = {
  name: 'pinger',
  description: 'one action every 2 s, after the previous one was acknowledged',
  mix: [{ action: 'ping', weight: 1 }],
  thinkTime: { kind: 'constant', value: 2000 },
  sessionLength: { kind: 'never' },
  offlineTime: { kind: 'constant', value: 1000 },
};

export default defineGame<Record<string, never>>({
  name: 'echo-ack',
  description: 'Acknowledges every action (peer bench only).',
  actions: {
    ping: { description: 'one message, one acknowledgement', params: () => ({}) },
  },
  profiles: {
    pinger: PINGER,
    idler: { ...PINGER, name: 'idler', description: 'one action every ~10 s (exponential think time): many connected players, few actions each', thinkTime: { kind: 'exponential', mean: 10_000 } },
  },
  client: (context) => webSocketJsonClient(context, ECHO_PROTOCOL),
});
