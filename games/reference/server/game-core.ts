/**
 * The game core: one actor per known player, one work queue, one group committer.
 *
 * Every change to game state goes through the committer loop, one transaction at a time: it takes
 * all queued work (hellos, actions, reads) in arrival order, computes the new states with the
 * shared game logic on top of the committed in-memory states, writes them in ONE transaction
 * (players + action log + ledger + gifts), and only after COMMIT updates the in-memory states and
 * sends welcomes, acks and pushes, in the order they were computed. Because a single writer owns
 * the rows, the in-memory state always equals the database, gifts cannot race a recipient's own
 * actions, and acks/pushes leave in version order. A failed transaction is retried with capped,
 * jittered backoff after reloading every involved player from the database, so a commit whose
 * outcome was unknown is recognised (seq already in the log) rather than applied twice.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool, PoolClient } from 'pg';
import type { BackendConfig } from './config';
import type { DefectName } from './defects';
import { checkout } from './database';
import { errorText, type Logger } from './log';
import { parseClientMessage } from './messages';
import type { BackendMetrics } from './metrics';
import { backoffDelay } from './retry';
import {
  applyAction,
  applyBankSide,
  applyGiftReceived,
  bankHasFunds,
  checksum,
  newGuildBank,
  newPlayer,
  STARTING_GOLD,
  type Action,
  type ActionResult,
  type Applied,
  type ClientMessage,
  type ErrorCode,
  type GuildBank,
  type PlayerState,
  type ServerMessage,
} from '../rules';
import { actionKey, loadBanks, loadPlayers, lookupActions, writeBatch, type BatchWrite, type StoredPlayer } from './store';

/** A client connection as the core sees it (the gateway wraps a WebSocket in one). */
export interface Session {
  readonly id: number;
  playerId: string | undefined;
  status: 'new' | 'logging-in' | 'ready' | 'closed';
  /** A resumed session that has not sent an action or read since its welcome. */
  awaitingFirstRequest: boolean;
  /** A read of this session waits for the committer (one at a time: the queue stays bounded). */
  readQueued?: boolean;
  send(message: ServerMessage): void;
  close(code: number, reason: string): void;
}

interface StoredAck {
  kind: Action['kind'];
  result: ActionResult;
  version: number;
  checksum: string;
}

const RECENT_ACKS = 64;

class PlayerActor {
  /** Committed state; undefined until loaded, and again after a write whose outcome is unknown. */
  state: PlayerState | undefined;
  resumeToken: string | undefined;
  session: Session | undefined;
  /** Seqs queued or being committed. */
  readonly queuedSeqs = new Set<number>();
  /** The last few acks, to answer a resend without a database read. */
  readonly recentAcks = new Map<number, StoredAck>();
  /** Highest state version delivered to the current session (welcome, ack or push). */
  sentVersion = 0;

  constructor(readonly id: string) {}

  remember(seq: number, ack: StoredAck): void {
    this.recentAcks.set(seq, ack);
    if (this.recentAcks.size > RECENT_ACKS) this.recentAcks.delete(this.recentAcks.keys().next().value as number);
  }

  highestAcceptedSeq(): number {
    let highest = this.state?.lastSeq ?? 0;
    for (const seq of this.queuedSeqs) highest = Math.max(highest, seq);
    return highest;
  }
}

type HelloWork = { type: 'hello'; playerId: string; resumeToken: string | undefined; session: Session };
type ActionWork = { type: 'action'; actor: PlayerActor; seq: number; action: Action; receivedAt: number };
type ReadWork = { type: 'read'; actor: PlayerActor; session: Session };
type WorkItem = HelloWork | ActionWork | ReadWork;

/** A gift's credit leg queued separately: only under the planted 'nonatomic-gift' defect. */
interface CreditWork {
  from: string;
  to: string;
  amount: number;
  senderSeq: number;
}

type Outgoing =
  | { type: 'welcome'; work: HelloWork; state: PlayerState; resumeToken: string; resumed: boolean }
  | { type: 'hello-error'; work: HelloWork; code: ErrorCode; message: string }
  | { type: 'ack'; work: ActionWork; result: ActionResult; version: number; checksum: string; duplicate: boolean }
  | { type: 'duplicate-lookup'; work: ActionWork }
  | { type: 'action-error'; work: ActionWork; code: ErrorCode; message: string; expectedSeq?: number }
  | { type: 'push'; to: string; from: string; amount: number; version: number; checksum: string }
  | { type: 'state'; work: ReadWork; state: PlayerState }
  | { type: 'read-error'; work: ReadWork; message: string };

/** Resends answered from the database at once, outside the committer (the pool has 6 connections). */
const MAX_DUPLICATE_LOOKUPS = 3;

/** Log lines name at most this many players of a batch (the ids let `lagstorm explain` attribute a failure). */
const MAX_LOGGED_PLAYERS = 50;

function playersOf(batch: WorkItem[]): string[] {
  const ids = new Set<string>();
  for (const work of batch) {
    ids.add(work.type === 'hello' ? work.playerId : work.actor.id);
    if (work.type === 'action' && work.action.kind === 'gift-send') ids.add(work.action.to);
    if (ids.size >= MAX_LOGGED_PLAYERS) break;
  }
  return [...ids];
}

export function newResumeToken(): string {
  return randomBytes(18).toString('base64url');
}

function errorMessage(code: ErrorCode, message: string, retryable: boolean, extra: { seq?: number; expectedSeq?: number } = {}): ServerMessage {
  return { t: 'error', code, message, retryable, ...extra };
}

/** Collapses consecutive batch writes into one (write-behind flush): last state per player wins. */
export function mergeWrites(writes: BatchWrite[]): BatchWrite {
  const created = new Map<string, StoredPlayer>();
  const updated = new Map<string, { state: PlayerState; previousVersion: number }>();
  const merged: BatchWrite = { created: [], updated: [], actions: [], ledger: [], gifts: [] };
  for (const write of writes) {
    for (const player of write.created) created.set(player.state.id, { ...player });
    for (const change of write.updated) {
      const fresh = created.get(change.state.id);
      const earlier = updated.get(change.state.id);
      if (fresh) fresh.state = change.state;
      else if (earlier) earlier.state = change.state;
      else updated.set(change.state.id, { ...change });
    }
    merged.actions.push(...write.actions);
    merged.ledger.push(...write.ledger);
    merged.gifts.push(...write.gifts);
  }
  merged.created = [...created.values()];
  merged.updated = [...updated.values()];
  // Banks likewise: the last state wins, guarded by the first write's previous version.
  const banks = new Map<string, { bank: GuildBank; previousVersion: number | null }>();
  for (const write of writes) {
    for (const change of write.banks ?? []) {
      const earlier = banks.get(change.bank.id);
      banks.set(change.bank.id, earlier ? { ...earlier, bank: change.bank } : { ...change });
    }
  }
  if (banks.size > 0) merged.banks = [...banks.values()];
  return merged;
}

export class GameCore {
  private readonly actors = new Map<string, PlayerActor>();
  /** Committed guild banks; a bank is dropped after a write whose outcome is unknown (reloaded before reuse). */
  private readonly banks = new Map<string, GuildBank>();
  private readonly sessions = new Set<Session>();
  private queue: WorkItem[] = [];
  private queuedActions = 0;
  private duplicateLookups = 0;
  private inFlightActions = 0;
  private creditQueue: CreditWork[] = [];
  private readonly creditTimers = new Set<NodeJS.Timeout>();
  private writeBuffer: BatchWrite[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing = false;
  private wake: (() => void) | undefined;
  private busy = false;
  private stopped = false;
  private draining = false;
  private loopDone: Promise<void> = Promise.resolve();
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly pool: Pool,
    private readonly metrics: BackendMetrics,
    private readonly config: BackendConfig,
    private readonly log: Logger,
  ) {
    metrics.countSessionsOnlineWith(() => this.countSessionsOnline());
  }

  private has(defect: DefectName): boolean {
    return this.config.defects.has(defect);
  }

  start(): void {
    this.loopDone = this.loop();
  }

  // ---------------------------------------------------------------- session entry points

  attach(session: Session): void {
    this.sessions.add(session);
  }

  /** The socket closed: forget the session (the player's actor and state stay cached). */
  detach(session: Session): void {
    if (session.playerId && session.status !== 'closed') this.log('info', 'session closed', { player: session.playerId, session: session.id });
    session.status = 'closed';
    this.sessions.delete(session);
    const actor = session.playerId ? this.actors.get(session.playerId) : undefined;
    if (actor?.session === session) actor.session = undefined;
  }

  receive(session: Session, raw: string): void {
    if (session.status === 'closed') return; // closing: nothing it sends may act (e.g. take over the live session)
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) {
      session.send(errorMessage('malformed', parsed.error, false, parsed.seq === undefined ? {} : { seq: parsed.seq }));
      return;
    }
    const message: ClientMessage = parsed.message;
    switch (message.t) {
      case 'ping':
        session.send({ t: 'pong', id: message.id, serverTime: Date.now() });
        return;
      case 'hello':
        return this.hello(session, message.playerId, message.resumeToken);
      case 'action':
        return this.action(session, message.seq, message.action);
      case 'read':
        return this.read(session);
    }
  }

  private hello(session: Session, playerId: string, resumeToken: string | undefined): void {
    if (this.draining) return session.send(errorMessage('shutting-down', 'server is shutting down; reconnect shortly', true));
    if (session.status === 'logging-in') return session.send(errorMessage('malformed', 'hello: a hello is already in progress on this connection', false));
    if (session.status === 'ready') return session.send(errorMessage('malformed', `hello: already logged in as ${session.playerId}; open a new connection to switch players`, false));
    session.status = 'logging-in';
    session.playerId = playerId;
    this.enqueue({ type: 'hello', playerId, resumeToken, session });
  }

  private loggedInActor(session: Session, seq?: number): PlayerActor | undefined {
    const actor = session.status === 'ready' && session.playerId ? this.actors.get(session.playerId) : undefined;
    if (!actor || actor.session !== session) {
      session.send(errorMessage('not-logged-in', 'send hello first (and wait for welcome)', false, seq === undefined ? {} : { seq }));
      return undefined;
    }
    return actor;
  }

  private action(session: Session, seq: number, action: Action): void {
    const receivedAt = performance.now();
    const actor = this.loggedInActor(session, seq);
    if (!actor) return;
    session.awaitingFirstRequest = false;
    if (this.draining) {
      this.countAction(action.kind, 'error');
      return session.send(errorMessage('shutting-down', 'server is shutting down: not applied; resend after reconnecting', true, { seq }));
    }
    const known = actor.state;
    if (known) {
      const accepted = actor.highestAcceptedSeq();
      if (seq <= known.lastSeq && !this.has('no-dedup')) return this.answerDuplicate(actor, session, seq, action.kind, receivedAt);
      // Resent while the original is still being committed: its ack is on the way.
      if (seq <= accepted && !this.has('no-dedup')) return;
      if (seq > accepted + 1) {
        this.countAction(action.kind, 'error');
        return session.send(errorMessage('out-of-order', `seq ${seq} skips ahead: expected ${accepted + 1}`, false, { seq, expectedSeq: accepted + 1 }));
      }
    } else if (actor.queuedSeqs.has(seq) && !this.has('no-dedup')) {
      return;
    }
    if (this.queuedActions + this.inFlightActions >= this.config.maxQueueDepth || actor.queuedSeqs.size >= this.config.maxPendingPerPlayer) {
      this.countAction(action.kind, 'shed');
      return session.send(errorMessage('overloaded', 'too many actions waiting for the database: not applied; resend the same seq later', true, { seq }));
    }
    actor.queuedSeqs.add(seq);
    this.queuedActions += 1;
    this.enqueue({ type: 'action', actor, seq, action, receivedAt });
  }

  private read(session: Session): void {
    const actor = this.loggedInActor(session);
    if (!actor) return;
    session.awaitingFirstRequest = false;
    if (actor.state && actor.queuedSeqs.size === 0) {
      // The client adopts a read's state wholesale: later changes follow on from its version.
      if (actor.session === session) actor.sentVersion = Math.max(actor.sentVersion, actor.state.version);
      return session.send({ t: 'state', state: actor.state, checksum: checksum(actor.state) });
    }
    if (this.draining) return session.send(errorMessage('shutting-down', 'server is shutting down', true));
    if (session.readQueued) return session.send(errorMessage('overloaded', 'a read of this session is already waiting; its answer will come', true));
    session.readQueued = true;
    this.enqueue({ type: 'read', actor, session });
  }

  private answerDuplicate(actor: PlayerActor, session: Session, seq: number, kind: Action['kind'], receivedAt: number): void {
    const send = (stored: StoredAck) => {
      this.countAction(kind, 'duplicate');
      this.metrics.actionDuration.observe({ kind }, (performance.now() - receivedAt) / 1000);
      session.send({ t: 'ack', seq, result: stored.result, version: stored.version, checksum: stored.checksum, duplicate: true, serverTime: Date.now() });
    };
    const recent = actor.recentAcks.get(seq);
    if (recent) return send(recent);
    // A resend storm after a restart must not take the committer's pool connections: cap the lookups.
    if (this.duplicateLookups >= MAX_DUPLICATE_LOOKUPS) {
      this.countAction(kind, 'shed');
      return session.send(errorMessage('overloaded', 'too many resends being looked up: resend the same seq later', true, { seq }));
    }
    this.duplicateLookups += 1;
    // Log rows at or below lastSeq never change, so reading them outside the committer is safe.
    lookupActions(this.pool, this.metrics, [{ player: actor.id, seq }])
      .finally(() => (this.duplicateLookups -= 1))
      .then((rows) => {
        const row = rows.get(actionKey(actor.id, seq));
        if (row) send({ kind: row.action.kind, result: row.result, version: row.version, checksum: row.checksum });
        else session.send(errorMessage('internal', `seq ${seq} is at or below lastSeq but not in the action log`, false, { seq }));
      })
      .catch((error: unknown) => session.send(errorMessage('unavailable', `could not read the stored result: ${errorText(error)}; resend later`, true, { seq })));
  }

  // ---------------------------------------------------------------- the committer loop

  private enqueue(work: WorkItem): void {
    this.queue.push(work);
    this.updateQueueDepth();
    this.wakeLoop();
  }

  private wakeLoop(): void {
    const wake = this.wake;
    this.wake = undefined;
    // setImmediate: let the rest of this I/O phase's messages join the same batch.
    if (wake) setImmediate(wake);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.queue.length === 0 && this.creditQueue.length === 0) {
        this.notifyIdle();
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      this.busy = true;
      try {
        if (this.creditQueue.length > 0) await this.runCreditLeg(this.creditQueue.splice(0));
        if (this.queue.length > 0) {
          if (this.config.groupCommitLingerMs > 0) await sleep(this.config.groupCommitLingerMs);
          const batch = this.queue.splice(0, this.config.maxBatch);
          const actions = batch.filter((work) => work.type === 'action').length;
          this.queuedActions -= actions;
          this.inFlightActions = actions;
          await this.commitWithRetry(batch);
          this.inFlightActions = 0;
        }
      } catch (error) {
        // commitWithRetry handles database errors; reaching here is a bug: log it, keep serving.
        this.log('error', 'committer loop error', { error: errorText(error), stack: (error as Error).stack });
      } finally {
        this.busy = false;
        this.updateQueueDepth();
      }
    }
    this.notifyIdle();
  }

  private async commitWithRetry(batch: WorkItem[]): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.commitBatch(batch);
        return;
      } catch (error) {
        this.forgetStates(batch);
        const delay = backoffDelay(attempt, this.config.retry);
        if (this.stopped || Date.now() - started + delay > this.config.retry.budgetMs) {
          this.log('error', 'giving up on a batch after retries', { attempts: attempt + 1, items: batch.length, players: playersOf(batch), error: errorText(error) });
          this.giveUp(batch);
          return;
        }
        this.metrics.dbRetries.inc();
        if (attempt === 0) this.log('warn', 'batch commit failed; retrying with backoff', { items: batch.length, players: playersOf(batch), error: errorText(error) });
        await sleep(delay);
      }
    }
  }

  /** After a failed write the database may or may not hold it: reload these players before reuse. */
  private forgetStates(batch: WorkItem[]): void {
    for (const work of batch) {
      const actor = work.type === 'hello' ? this.actors.get(work.playerId) : work.actor;
      if (actor) actor.state = undefined;
      if (work.type === 'action' && work.action.kind === 'gift-send') {
        const target = this.actors.get(work.action.to);
        if (target) target.state = undefined;
      }
      if (work.type === 'action' && (work.action.kind === 'guild-deposit' || work.action.kind === 'guild-withdraw')) this.banks.delete(work.action.guild);
    }
  }

  private giveUp(batch: WorkItem[]): void {
    for (const work of batch) {
      if (work.type === 'hello') {
        if (work.session.status === 'logging-in') work.session.status = 'new';
        work.session.send(errorMessage('unavailable', 'database unavailable; send hello again later', true));
      } else if (work.type === 'action') {
        work.actor.queuedSeqs.delete(work.seq);
        this.countAction(work.action.kind, 'error');
        work.actor.session?.send(
          errorMessage('unavailable', 'database unavailable after retries: outcome unknown; resend the same seq to learn it', true, { seq: work.seq }),
        );
      } else {
        work.session.readQueued = false;
        work.session.send(errorMessage('unavailable', 'database unavailable; read again later', true));
      }
    }
  }

  private actorFor(id: string): PlayerActor {
    let actor = this.actors.get(id);
    if (!actor) {
      actor = new PlayerActor(id);
      this.actors.set(id, actor);
    }
    return actor;
  }

  /** One group commit: compute every item on top of the committed states, write, COMMIT, then answer. */
  private async commitBatch(batch: WorkItem[]): Promise<void> {
    const needed = new Set<string>();
    for (const work of batch) {
      if (work.type === 'hello') needed.add(work.playerId);
      else needed.add(work.actor.id);
      if (work.type === 'action' && work.action.kind === 'gift-send' && typeof work.action.to === 'string') needed.add(work.action.to);
    }
    const missing = [...needed].filter((id) => !this.actors.get(id)?.state);
    const banksNeeded = new Set<string>();
    for (const work of batch) if (work.type === 'action' && (work.action.kind === 'guild-deposit' || work.action.kind === 'guild-withdraw') && typeof work.action.guild === 'string') banksNeeded.add(work.action.guild);
    const banksMissing = [...banksNeeded].filter((id) => !this.banks.has(id));

    const client = await this.connect();
    let failed: Error | undefined;
    try {
      // The committer is the only writer, so reads need no transaction; the write's version guard
      // still catches any row that moved underneath (and the retry reloads it).
      const loaded = await loadPlayers(client, this.metrics, missing);
      const loadedBanks = await loadBanks(client, this.metrics, banksMissing);
      const plan = this.plan(batch, loaded, loadedBanks);
      if (plan.duplicateKeys.length > 0) plan.storedResults = await lookupActions(client, this.metrics, plan.duplicateKeys);
      if (this.has('ack-before-commit')) {
        // DEFECT ack-before-commit: answer from memory now; a write-behind flusher persists later.
        this.publish(plan, loaded, loadedBanks);
        this.scheduleCredits(plan.deferredCredits);
        this.bufferWrite(plan.write);
        return;
      }
      // One statement = one atomic transaction, committed (and fsynced) before anything is answered.
      await writeBatch(client, this.metrics, plan.write, { onConflictIgnore: this.has('no-dedup') });
      this.metrics.batchSize.observe(batch.length);
      this.publish(plan, loaded, loadedBanks);
      this.scheduleCredits(plan.deferredCredits);
    } catch (error) {
      failed = error as Error;
      throw error;
    } finally {
      // A connection that failed is destroyed, not reused.
      client.release(failed);
    }
  }

  private async connect(): Promise<PoolClient> {
    const end = this.metrics.dbQueryDuration.startTimer({ op: 'connect' });
    try {
      return await checkout(this.pool, this.log);
    } finally {
      end();
    }
  }

  private plan(batch: WorkItem[], loaded: Map<string, StoredPlayer>, loadedBanks: Map<string, GuildBank> = new Map()) {
    const overlay = new Map<string, PlayerState>();
    const created = new Map<string, StoredPlayer>();
    const stateOf = (id: string): PlayerState | undefined => overlay.get(id) ?? loaded.get(id)?.state ?? this.actors.get(id)?.state;
    const tokenOf = (id: string): string | undefined => created.get(id)?.resumeToken ?? loaded.get(id)?.resumeToken ?? this.actors.get(id)?.resumeToken;
    const out: Outgoing[] = [];
    const write: BatchWrite = { created: [], updated: [], actions: [], ledger: [], gifts: [] };
    const duplicateKeys: Array<{ player: string; seq: number }> = [];
    const deferredCredits: CreditWork[] = [];
    const bankOverlay = new Map<string, GuildBank>();
    /** The bank as committed before this batch (a bank nobody used yet starts empty). */
    const committedBank = (id: string): GuildBank => loadedBanks.get(id) ?? this.banks.get(id) ?? newGuildBank(id);
    const bankOf = (id: string): GuildBank => bankOverlay.get(id) ?? committedBank(id);

    for (const work of batch) {
      if (work.type === 'hello') {
        const existing = stateOf(work.playerId);
        if (!existing) {
          const state = newPlayer(work.playerId);
          const resumeToken = work.resumeToken ?? newResumeToken();
          overlay.set(state.id, state);
          created.set(state.id, { state, resumeToken });
          write.ledger.push({ player: state.id, kind: 'source', reason: 'starting-grant', amount: STARTING_GOLD, seq: null });
          out.push({ type: 'welcome', work, state, resumeToken, resumed: false });
        } else {
          const storedToken = tokenOf(work.playerId);
          if (storedToken !== undefined && work.resumeToken === storedToken) {
            out.push({ type: 'welcome', work, state: existing, resumeToken: storedToken, resumed: true });
          } else {
            const message = work.resumeToken ? 'resume token does not match this player' : 'player exists: send its resumeToken to resume';
            out.push({ type: 'hello-error', work, code: 'bad-token', message });
          }
        }
        continue;
      }
      const id = work.actor.id;
      const state = stateOf(id);
      if (work.type === 'read') {
        if (state) out.push({ type: 'state', work, state });
        else out.push({ type: 'read-error', work, message: 'player state not loaded' });
        continue;
      }
      if (!state) {
        out.push({ type: 'action-error', work, code: 'internal', message: 'player state not loaded' });
      } else if (work.seq <= state.lastSeq && !this.has('no-dedup')) {
        duplicateKeys.push({ player: id, seq: work.seq });
        out.push({ type: 'duplicate-lookup', work });
      } else if (work.seq > state.lastSeq + 1) {
        out.push({ type: 'action-error', work, code: 'out-of-order', message: `seq ${work.seq} skips ahead: expected ${state.lastSeq + 1}`, expectedSeq: state.lastSeq + 1 });
      } else {
        const action = work.action;
        const recipient = action.kind === 'gift-send' ? stateOf(action.to) : undefined;
        const guildAction = action.kind === 'guild-deposit' || action.kind === 'guild-withdraw' ? action : undefined;
        // DEFECT bank-lost-update: reads the bank as cached at the start of the group commit, not the
        // batch's running balance, so two bank operations in one commit: the last write wins.
        const bank = guildAction ? (this.has('bank-lost-update') ? committedBank(guildAction.guild) : bankOf(guildAction.guild)) : undefined;
        const facts = guildAction?.kind === 'guild-withdraw' && bank ? { bankHasFunds: bankHasFunds(bank, guildAction.amount) } : {};
        let applied: Applied = applyAction(state, action, work.seq, facts);
        if (this.has('no-dedup')) applied.state.lastSeq = Math.max(applied.state.lastSeq, state.lastSeq);
        if (action.kind === 'gift-send' && applied.result.outcome === 'applied' && !recipient) {
          // The shared model cannot know which players exist; an unknown target is the backend's rejection.
          applied = { state: { ...state, inventory: { ...state.inventory }, lastSeq: applied.state.lastSeq, version: state.version + 1 }, result: { outcome: 'rejected', reason: 'invalid-target' } };
        }
        overlay.set(id, applied.state);
        const stateChecksum = checksum(applied.state);
        write.actions.push({ player: id, seq: work.seq, action, result: applied.result, version: applied.state.version, checksum: stateChecksum });
        if (applied.result.outcome === 'applied') {
          for (const entry of applied.result.ledger) write.ledger.push({ ...entry, player: id, seq: work.seq });
        }
        out.push({ type: 'ack', work, result: applied.result, version: applied.state.version, checksum: stateChecksum, duplicate: false });
        if (guildAction && bank && applied.result.outcome === 'applied') bankOverlay.set(bank.id, applyBankSide(bank, guildAction));
        if (action.kind === 'gift-send' && applied.result.outcome === 'applied' && recipient) {
          const credit = { from: id, to: action.to, amount: action.amount, senderSeq: work.seq };
          if (this.has('nonatomic-gift')) {
            // DEFECT nonatomic-gift: the credit leg is a second transaction, run later, never retried.
            deferredCredits.push(credit);
          } else {
            const credited = applyGiftReceived(recipient, action.amount);
            overlay.set(action.to, credited);
            write.gifts.push({ ...credit, recipientVersion: credited.version });
            out.push({ type: 'push', to: action.to, from: id, amount: action.amount, version: credited.version, checksum: checksum(credited) });
          }
        }
      }
    }

    for (const [id, state] of overlay) {
      const fresh = created.get(id);
      if (fresh) write.created.push({ state, resumeToken: fresh.resumeToken });
      else write.updated.push({ state, previousVersion: (loaded.get(id)?.state ?? this.actors.get(id)?.state)?.version ?? -1 });
    }
    if (bankOverlay.size > 0) {
      write.banks = [...bankOverlay.values()].map((bank) => {
        const before = loadedBanks.get(bank.id) ?? this.banks.get(bank.id);
        return { bank, previousVersion: before ? before.version : null };
      });
    }
    return { overlay, bankOverlay, created, out, write, duplicateKeys, deferredCredits, storedResults: new Map() as Awaited<ReturnType<typeof lookupActions>> };
  }

  /** After COMMIT (or, under the defect, before it): make the new states current and answer. */
  private publish(plan: ReturnType<GameCore['plan']>, loaded: Map<string, StoredPlayer>, loadedBanks: Map<string, GuildBank> = new Map()): void {
    for (const [id, bank] of loadedBanks) this.banks.set(id, bank);
    for (const [id, bank] of plan.bankOverlay) this.banks.set(id, bank);
    for (const [id, stored] of loaded) {
      const actor = this.actorFor(id);
      actor.state = stored.state;
      actor.resumeToken = stored.resumeToken;
    }
    for (const [id, stored] of plan.created) this.actorFor(id).resumeToken = stored.resumeToken;
    for (const [id, state] of plan.overlay) this.actorFor(id).state = state;

    const now = Date.now();
    for (const item of plan.out) {
      switch (item.type) {
        case 'welcome':
          this.welcome(item.work, item.state, item.resumeToken, item.resumed);
          break;
        case 'hello-error':
          if (item.work.session.status === 'logging-in') item.work.session.status = 'new';
          item.work.session.send(errorMessage(item.code, item.message, false));
          break;
        case 'ack': {
          const { work } = item;
          work.actor.queuedSeqs.delete(work.seq);
          work.actor.remember(work.seq, { kind: work.action.kind, result: item.result, version: item.version, checksum: item.checksum });
          this.countAction(work.action.kind, item.result.outcome);
          this.metrics.actionDuration.observe({ kind: work.action.kind }, (performance.now() - work.receivedAt) / 1000);
          const ack = { t: 'ack', seq: work.seq, result: item.result, version: item.version, checksum: item.checksum, duplicate: item.duplicate, serverTime: now } as const;
          if (item.duplicate) work.actor.session?.send(ack);
          else this.sendVersioned(work.actor, ack);
          break;
        }
        case 'duplicate-lookup': {
          const { work } = item;
          work.actor.queuedSeqs.delete(work.seq);
          const row = plan.storedResults.get(actionKey(work.actor.id, work.seq));
          if (!row) {
            work.actor.session?.send(errorMessage('internal', `seq ${work.seq} is at or below lastSeq but not in the action log`, false, { seq: work.seq }));
            break;
          }
          this.countAction(work.action.kind, 'duplicate');
          work.actor.session?.send({ t: 'ack', seq: work.seq, result: row.result, version: row.version, checksum: row.checksum, duplicate: true, serverTime: now });
          break;
        }
        case 'action-error':
          item.work.actor.queuedSeqs.delete(item.work.seq);
          this.countAction(item.work.action.kind, 'error');
          item.work.actor.session?.send(errorMessage(item.code, item.message, false, { seq: item.work.seq, ...(item.expectedSeq === undefined ? {} : { expectedSeq: item.expectedSeq }) }));
          break;
        case 'push':
          this.push(item.to, { t: 'push', kind: 'gift-received', from: item.from, amount: item.amount, version: item.version, checksum: item.checksum, serverTime: now });
          break;
        case 'state':
          item.work.session.readQueued = false;
          if (item.work.actor.session === item.work.session) item.work.actor.sentVersion = Math.max(item.work.actor.sentVersion, item.state.version);
          item.work.session.send({ t: 'state', state: item.state, checksum: checksum(item.state) });
          break;
        case 'read-error':
          item.work.session.readQueued = false;
          item.work.session.send(errorMessage('internal', item.message, false));
          break;
      }
    }
  }

  private welcome(work: HelloWork, state: PlayerState, resumeToken: string, resumed: boolean): void {
    const { session } = work;
    if (session.status !== 'logging-in') return; // the socket closed while the hello was queued
    const actor = this.actorFor(work.playerId);
    if (actor.session && actor.session !== session) {
      actor.session.status = 'closed';
      actor.session.close(4000, 'session taken over by a newer connection');
    }
    actor.session = session;
    actor.sentVersion = state.version;
    session.status = 'ready';
    session.awaitingFirstRequest = resumed;
    if (resumed) this.metrics.reconnects.inc();
    // One line per login (never per action): `lagstorm explain` finds a player's sessions in the log by it.
    this.log('info', 'player logged in', { player: work.playerId, session: session.id, resumed, version: state.version, lastSeq: state.lastSeq });
    session.send({ t: 'welcome', state, checksum: checksum(state), resumeToken, resumed, serverTime: Date.now() });
  }

  private push(to: string, message: Extract<ServerMessage, { t: 'push' }>): void {
    this.metrics.gifts.inc();
    const actor = this.actors.get(to);
    const session = actor?.session;
    if (!actor || !session) return; // offline: the next welcome carries the credited state
    // DEFECT lost-push: a resumed session only counts as ready after its first request; pushes before that are skipped
    // (and the bookkeeping believes they went out).
    if (this.has('lost-push') && session.awaitingFirstRequest) {
      actor.sentVersion = Math.max(actor.sentVersion, message.version);
      return;
    }
    this.sendVersioned(actor, message);
  }

  /**
   * A session gets every change in version order, without gaps. A change can be committed yet never
   * announced (a gift credited in a commit whose outcome looked unknown, then found applied on the
   * retry); then the session is closed so the client resyncs from its next welcome.
   */
  private sendVersioned(actor: PlayerActor, message: Extract<ServerMessage, { t: 'ack' | 'push' }>): void {
    const session = actor.session;
    if (!session) return;
    if (message.version > actor.sentVersion + 1) {
      this.log('warn', 'a committed change was never sent to the session; closing it so the client resyncs', { player: actor.id, sentVersion: actor.sentVersion, version: message.version });
      session.close(4009, 'resync: a change could not be delivered; reconnect');
      actor.session = undefined;
      return;
    }
    actor.sentVersion = Math.max(actor.sentVersion, message.version);
    session.send(message);
  }

  // ---------------------------------------------------------------- ack-before-commit defect only

  private bufferWrite(write: BatchWrite): void {
    this.writeBuffer.push(write);
    if (this.flushTimer || this.flushing) return;
    this.flushTimer = setTimeout(() => void this.flushWriteBehind(), this.config.writeBehindMs);
  }

  /** DEFECT ack-before-commit: persists acknowledged changes every writeBehindMs; a crash in between loses them. */
  private async flushWriteBehind(): Promise<void> {
    this.flushTimer = undefined;
    this.flushing = true;
    const writes = this.writeBuffer.splice(0);
    let client: PoolClient | undefined;
    let failed: Error | undefined;
    try {
      client = await this.connect();
      await client.query('BEGIN');
      await writeBatch(client, this.metrics, mergeWrites(writes));
      await client.query('COMMIT');
    } catch (error) {
      failed = error as Error;
      await client?.query('ROLLBACK').catch(() => undefined);
      const players = [...new Set(writes.flatMap((write) => write.actions.map((row) => row.player)))].slice(0, MAX_LOGGED_PLAYERS);
      this.log('error', 'write-behind flush failed; acknowledged actions are lost', { batches: writes.length, players, error: errorText(error) });
    } finally {
      client?.release(failed);
      this.flushing = false;
      if (this.writeBuffer.length > 0) this.flushTimer = setTimeout(() => void this.flushWriteBehind(), this.config.writeBehindMs);
    }
  }

  // ---------------------------------------------------------------- nonatomic-gift defect only

  private scheduleCredits(credits: CreditWork[]): void {
    if (credits.length === 0) return;
    const timer = setTimeout(() => {
      this.creditTimers.delete(timer);
      this.creditQueue.push(...credits);
      if (this.wake) this.wakeLoop();
    }, this.config.giftCreditDelayMs);
    this.creditTimers.add(timer);
  }

  /** DEFECT nonatomic-gift: the credit leg in its own transaction; on failure the debit stays and the gold is gone. */
  private async runCreditLeg(credits: CreditWork[]): Promise<void> {
    let client: PoolClient | undefined;
    let failed: Error | undefined;
    try {
      client = await this.connect();
      await client.query('BEGIN');
      const missing = [...new Set(credits.map((c) => c.to))].filter((id) => !this.actors.get(id)?.state);
      const loaded = await loadPlayers(client, this.metrics, missing);
      const overlay = new Map<string, PlayerState>();
      const write: BatchWrite = { created: [], updated: [], actions: [], ledger: [], gifts: [] };
      const pushes: Array<{ credit: CreditWork; state: PlayerState }> = [];
      for (const credit of credits) {
        const recipient = overlay.get(credit.to) ?? loaded.get(credit.to)?.state ?? this.actors.get(credit.to)?.state;
        if (!recipient) continue;
        const credited = applyGiftReceived(recipient, credit.amount);
        overlay.set(credit.to, credited);
        write.gifts.push({ ...credit, recipientVersion: credited.version });
        pushes.push({ credit, state: credited });
      }
      for (const [id, state] of overlay) write.updated.push({ state, previousVersion: (loaded.get(id)?.state ?? this.actors.get(id)?.state)?.version ?? -1 });
      await writeBatch(client, this.metrics, write);
      await client.query('COMMIT');
      for (const [id, stored] of loaded) Object.assign(this.actorFor(id), { state: stored.state, resumeToken: stored.resumeToken });
      for (const [id, state] of overlay) this.actorFor(id).state = state;
      for (const { credit, state } of pushes) {
        this.push(credit.to, { t: 'push', kind: 'gift-received', from: credit.from, amount: credit.amount, version: state.version, checksum: checksum(state), serverTime: Date.now() });
      }
    } catch (error) {
      failed = error as Error;
      await client?.query('ROLLBACK').catch(() => undefined);
      for (const credit of credits) {
        const actor = this.actors.get(credit.to);
        if (actor) actor.state = undefined;
      }
      const players = [...new Set(credits.flatMap((credit) => [credit.from, credit.to]))].slice(0, MAX_LOGGED_PLAYERS);
      this.log('error', 'gift credit leg failed; senders were already debited', { credits: credits.length, players, error: errorText(error) });
    } finally {
      client?.release(failed);
    }
  }

  // ---------------------------------------------------------------- drain and stop

  /** SIGTERM: refuse new work from now on ('shutting-down'); queued work still commits. */
  beginDrain(): void {
    this.draining = true;
  }

  /** Resolves true once nothing is queued or committing (false on timeout). */
  async waitIdle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.busy || this.queue.length > 0 || this.creditQueue.length > 0 || this.creditTimers.size > 0 || this.writeBuffer.length > 0 || this.flushing) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await Promise.race([new Promise<void>((resolve) => this.idleWaiters.push(resolve)), sleep(Math.min(remaining, 50))]);
    }
    return true;
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.creditTimers) clearTimeout(timer);
    this.creditTimers.clear();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.wake?.();
    await this.loopDone;
  }

  // ---------------------------------------------------------------- metrics

  private countAction(kind: string, outcome: 'applied' | 'rejected' | 'duplicate' | 'error' | 'shed'): void {
    this.metrics.actions.inc({ kind, outcome });
  }

  private updateQueueDepth(): void {
    this.metrics.queueDepth.set(this.queuedActions + this.inFlightActions);
  }

  private countSessionsOnline(): number {
    let online = 0;
    for (const session of this.sessions) if (session.status === 'ready') online += 1;
    return online;
  }
}
