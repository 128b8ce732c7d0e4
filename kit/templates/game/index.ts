/**
 * The my-game plug-in for lagstorm: everything lagstorm needs to know about one game backend.
 * Scaffolded by `lagstorm init game my-game`; it plays the demo server beside it (server.ts) so it
 * runs out of the box. To test YOUR backend, replace what the REPLACE comments point at: the
 * messages in `client`, the actions and their effects, the profile, and the final-state reader.
 * The port is documented in lagstorm's README ("Your own game: the plug-in port").
 */
import path from 'node:path';
import { defineGame, webSocketJsonClient, type WebSocketJsonOptions } from 'lagstorm';

/** REPLACE: what your server's replies look like. The demo answers { id, ok, gold?, lastSeq?, error?, retryable? }. */
type Reply = { ok: boolean; gold?: number; lastSeq?: number; error?: string; retryable?: boolean };

/** The final state: player → gold, as the demo's GET <admin>/state serves it. */
type FinalState = Record<string, { gold: number }>;

// REPLACE: your protocol. The helper sends { id, ...body } and matches the reply carrying that id;
// a dead link makes every pending action `info` (unknown), which the checkers allow for. One object
// for all bots: each callback gets the bot's context (a closure per bot would cost memory per bot).
const PROTOCOL: WebSocketJsonOptions<Reply> = {
  login: (_login, context) => ({ op: 'login', player: context.playerId }),
  loginResult: (reply) => (reply.ok ? { value: { gold: reply.gold }, lastSeq: reply.lastSeq } : { refused: reply.error ?? 'login refused' }),
  // `seq` is the idempotency key: the bot resends an unknown action with the same seq after a reconnect.
  request: (call, context) => ({ op: call.name, player: context.playerId, seq: call.seq, ...(call.params as object) }),
  classify: (reply) => (reply.ok ? { type: 'ok', value: { gold: reply.gold } } : { type: reply.retryable ? 'info' : 'fail', error: reply.error ?? 'refused' }),
};

export default defineGame<FinalState>({
  name: 'my-game',
  description: 'my-game (scaffolded): gold per player over WebSocket JSON',
  // The backend `lagstorm run` starts with --port --admin-port --database-url. REPLACE with your
  // server's entry point, or drop it and point scenarios at your running backend with `target`.
  server: { entry: path.join(__dirname, 'server.ts') },

  // REPLACE: your actions. `params` draws from the seeded rng (same seed, same actions); `effects`
  // declares what an action changes, so lagstorm's generic checkers can prove nothing acknowledged
  // was lost and nothing was applied twice.
  actions: {
    collect: {
      description: 'collect 1-10 gold',
      params: ({ rng }) => ({ amount: 1 + Math.floor(rng.next() * 10) }),
      effects: (params: { amount: number }) => [{ quantity: 'gold', delta: params.amount }],
    },
    spend: {
      description: 'spend 1-5 gold (refused when the player has too little)',
      params: ({ rng }) => ({ amount: 1 + Math.floor(rng.next() * 5) }),
      effects: (params: { amount: number }) => [{ quantity: 'gold', delta: -params.amount }],
    },
  },
  // The quantities the effects change, and how to read them from the final state.
  quantities: { gold: {} },
  finalQuantities: (final) => Object.fromEntries(Object.entries(final).map(([player, state]) => [player, { gold: state.gold }])),
  readFinalState: async ({ adminUrl }) => (await (await fetch(`${adminUrl}/state`, { signal: AbortSignal.timeout(10_000) })).json()) as FinalState,

  // REPLACE: how your players behave. Scenarios name profiles in `bots.<group>.profile`.
  profiles: {
    player: {
      name: 'player',
      description: 'collects twice as often as it spends, ~300 ms between actions',
      mix: [
        { action: 'collect', weight: 2 },
        { action: 'spend', weight: 1 },
      ],
      thinkTime: { kind: 'exponential', mean: 300, min: 20, max: 3000 },
      sessionLength: { kind: 'never' },
      offlineTime: { kind: 'constant', value: 1000 },
    },
  },

  client: (context) => webSocketJsonClient(context, PROTOCOL),
});
