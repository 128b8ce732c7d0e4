/**
 * The `world` room: bots join it with `{ player }`; every action is a room message answered by a
 * 'reply' message carrying the request id, sent only after the store committed it. A client that
 * drops without leaving keeps its seat for RECONNECT_SECONDS (Colyseus `allowReconnection`).
 */
import { Room, ServerError, type Client } from '@colyseus/core';
import { invalidAction, type ActMessage, type HelloMessage, type ReplyMessage } from '../rules';
import type { GameMetrics } from './metrics';
import type { GameStore } from './store';

export const RECONNECT_SECONDS = 10;

export interface RoomDeps {
  store: GameStore;
  metrics: GameMetrics;
  log(message: string): void;
  /** True once the server is shutting down: no reconnection seats are held then. */
  shuttingDown(): boolean;
}

interface Seat {
  player: string;
}

const PLAYER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The room class for `gameServer.define('world', ...)`, bound to its store. */
export function worldRoom(deps: RoomDeps) {
  return class WorldRoom extends Room<object, unknown, Seat> {
    override maxClients = 10_000;

    override onCreate(): void {
      this.onMessage('hello', (client: Client<Seat>, message: HelloMessage) => void this.hello(client, message));
      this.onMessage('act', (client: Client<Seat>, message: ActMessage) => void this.act(client, message));
    }

    override onJoin(client: Client<Seat>, options: { player?: unknown } | undefined): void {
      const player = options?.player;
      if (typeof player !== 'string' || !PLAYER_ID.test(player)) throw new ServerError(4400, 'join with { player: "<id>" } (letters, digits, _.:-, at most 64)');
      // No database work here: the client's 'hello' loads (or creates) the player and answers its last seq.
      client.userData = { player };
      deps.metrics.clients.inc();
    }

    override async onLeave(client: Client<Seat>, consented: boolean): Promise<void> {
      deps.metrics.clients.dec();
      const player = client.userData?.player;
      if (!consented && !deps.shuttingDown()) {
        try {
          await this.allowReconnection(client, RECONNECT_SECONDS);
          deps.metrics.clients.inc();
          return; // the same seat again: the player never left
        } catch {
          // the seat expired or the room is closing: the player is gone
        }
      }
      if (player) await deps.store.leave(player).catch((error: Error) => deps.log(`leave ${player}: ${error.message}`));
    }

    private reply(client: Client<Seat>, message: ReplyMessage): void {
      try {
        client.send('reply', message);
      } catch {
        // the link is gone; the client settles the request as unknown
      }
    }

    private async hello(client: Client<Seat>, message: HelloMessage): Promise<void> {
      const id = Number(message?.id);
      const player = client.userData?.player;
      if (!player) return this.reply(client, { id, ok: false, retryable: false, error: 'join the room first' });
      try {
        const { lastSeq, gold, gems } = await deps.store.hello(player);
        this.reply(client, { id, ok: true, lastSeq, gold, gems });
      } catch (error) {
        this.reply(client, { id, ok: false, retryable: true, error: `unavailable: ${(error as Error).message}` });
      }
    }

    private async act(client: Client<Seat>, message: ActMessage): Promise<void> {
      const started = process.hrtime.bigint();
      const id = Number(message?.id);
      const player = client.userData?.player;
      const kind = String((message?.action as { kind?: unknown } | undefined)?.kind ?? 'unknown');
      const problem = !player ? 'join the room first' : !Number.isInteger(message?.seq) || message.seq < 1 ? 'seq must be a positive integer' : invalidAction(message.action);
      if (problem || !player) {
        deps.metrics.actions.inc({ action: kind, outcome: 'invalid' });
        return this.reply(client, { id, ok: false, retryable: false, error: `invalid: ${problem}` });
      }
      try {
        const { result, duplicate } = await deps.store.apply(player, message.seq, message.action);
        deps.metrics.actions.inc({ action: kind, outcome: duplicate ? 'duplicate' : result.applied ? 'applied' : 'rejected' });
        this.reply(client, { id, ok: true, result, ...(duplicate ? { duplicate } : {}) });
      } catch (error) {
        deps.metrics.actions.inc({ action: kind, outcome: 'error' });
        // The transaction may or may not have committed (a cut link during COMMIT): retryable, outcome unknown.
        this.reply(client, { id, ok: false, retryable: true, error: `unavailable: ${(error as Error).message}` });
      } finally {
        deps.metrics.actionSeconds.observe({ action: kind }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    }
  };
}
