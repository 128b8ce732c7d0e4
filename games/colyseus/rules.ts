/**
 * The Colyseus example game's rules and wire messages, shared by its server and its plug-in.
 * A player holds gold (earned by mining, spent in trades) and gems (only ever moved between
 * players by gifts and trades: a transfer-only quantity). Plain TypeScript, no Node APIs.
 */

/** The room type bots join (`client.joinOrCreate(ROOM, { player })`). */
export const ROOM = 'world';
export const STARTING_GOLD = 50;
export const STARTING_GEMS = 100;
/** Mining yields 1..MAX_YIELD gold, fixed by the server per (player, seq). */
export const MAX_YIELD = 10;

export type Action =
  | { kind: 'mine' }
  /** Give `gems` of mine to `to`. */
  | { kind: 'gift'; to: string; gems: number }
  /** Buy `gems` from `with` for `gold`. */
  | { kind: 'trade'; with: string; gems: number; gold: number };

export type ActionResult =
  | { applied: true; gold: number; gems: number; mined?: number }
  | { applied: false; reason: string };

export interface Holding {
  gold: number;
  gems: number;
}

// ---- wire messages (Colyseus room messages, msgpack-encoded by the framework) ----

/** client → server 'hello': who am I and what did you apply last. */
export interface HelloMessage {
  id: number;
}
/** client → server 'act': one action with the client's seq (the idempotency key). */
export interface ActMessage {
  id: number;
  seq: number;
  action: Action;
}
/** server → client 'reply', matched by `id`: sent after COMMIT. */
export type ReplyMessage =
  | { id: number; ok: true; lastSeq?: number; gold?: number; gems?: number; result?: ActionResult; duplicate?: boolean }
  | { id: number; ok: false; retryable: boolean; error: string };

/** The final persisted state, read in one snapshot (GET <admin>/state). */
export interface FinalState {
  players: Array<{ id: string; gold: number; gems: number; lastSeq: number }>;
  applied: Array<{ player: string; seq: number }>;
}

/** What mining yields for this (player, seq): deterministic, so a resend cannot change it. */
export function mineYield(player: string, seq: number): number {
  let hash = 2166136261;
  for (const char of `${player}#${seq}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return 1 + (hash % MAX_YIELD);
}

/** The peer an action touches, if any. */
export function peerOf(action: Action): string | undefined {
  return action.kind === 'gift' ? action.to : action.kind === 'trade' ? action.with : undefined;
}

/** Checks an 'act' message's action; returns a reason when malformed. */
export function invalidAction(action: unknown): string | undefined {
  const a = action as Partial<Record<string, unknown>> | null;
  const count = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 1000;
  if (!a || typeof a !== 'object') return 'action must be an object';
  if (a.kind === 'mine') return undefined;
  if (a.kind === 'gift') return typeof a.to === 'string' && a.to && count(a.gems) ? undefined : 'gift needs to (a player id) and gems (1..1000)';
  if (a.kind === 'trade') return typeof a.with === 'string' && a.with && count(a.gems) && count(a.gold) ? undefined : 'trade needs with (a player id), gems and gold (1..1000)';
  return `unknown action kind ${JSON.stringify(a.kind)}`;
}

/**
 * Applies one action to the holdings of the players it touches: the result and each touched
 * player's change (deltas). A rejected action changes nothing.
 */
export function applyAction(player: string, seq: number, action: Action, holdings: ReadonlyMap<string, Holding>): { result: ActionResult; deltas: Map<string, Holding> } {
  const me = holdings.get(player);
  if (!me) throw new Error(`no holding for ${player}`);
  const deltas = new Map<string, Holding>();
  const reject = (reason: string) => ({ result: { applied: false as const, reason }, deltas });
  const done = (mined?: number) => {
    const after = { gold: me.gold + (deltas.get(player)?.gold ?? 0), gems: me.gems + (deltas.get(player)?.gems ?? 0) };
    return { result: { applied: true as const, ...after, ...(mined !== undefined ? { mined } : {}) }, deltas };
  };
  switch (action.kind) {
    case 'mine': {
      const mined = mineYield(player, seq);
      deltas.set(player, { gold: mined, gems: 0 });
      return done(mined);
    }
    case 'gift': {
      if (action.to === player) return reject('cannot gift to yourself');
      if (me.gems < action.gems) return reject(`not enough gems (${me.gems} < ${action.gems})`);
      deltas.set(player, { gold: 0, gems: -action.gems });
      deltas.set(action.to, { gold: 0, gems: action.gems });
      return done();
    }
    case 'trade': {
      const peer = holdings.get(action.with);
      if (action.with === player || !peer) return reject('no such trading partner');
      if (me.gold < action.gold) return reject(`not enough gold (${me.gold} < ${action.gold})`);
      if (peer.gems < action.gems) return reject(`${action.with} has not enough gems (${peer.gems} < ${action.gems})`);
      deltas.set(player, { gold: -action.gold, gems: action.gems });
      deltas.set(action.with, { gold: action.gold, gems: -action.gems });
      return done();
    }
  }
}
