/**
 * no-desync: no bot ever saw the server disagree with its shadow model, and, when the game tells
 * how, every bot's final shadow (its 'session-end', when no info ops were pending) equals the
 * server's final state for that player (or the server's state at the shadow's version, when changes
 * from other players arrived after the bot left).
 *
 * Applies to games whose client keeps a shadow model (GameFeatures.shadowModel). The desyncs found
 * during the run are the client's findings; comparing final shadows with the final state needs the
 * game's reading of that state (`FinalShadows`), so a game passes one to `noDesyncChecker` and lists
 * the result among its own checkers, where it takes the generic one's place.
 */
import type { BotEvent } from '../../core/history';
import type { Checker, CheckInput, CheckResult } from '../types';
import { Offences, invalidResult, plural } from '../ops';

interface ShadowValue {
  version: number;
  checksum: string;
  pendingInfo: number;
}

/** A player's state as the server holds it: its version and the game's checksum of it. */
export interface ServerView {
  version: number;
  checksum: string;
}

/** How a game reads its final state for the shadow comparison. */
export interface FinalShadows {
  /** The player's final version and checksum; undefined when the final state has no such player. */
  finalOf(player: string): ServerView | undefined;
  /** The player's state at an earlier version (e.g. a replay of its log up to it); undefined when it cannot be rebuilt. */
  at(player: string, version: number): ServerView | undefined;
}

export interface NoDesyncOptions {
  /**
   * Reads the game's final state (CheckInput.final, present) for the shadow comparison; returns a
   * string saying why when it is not the state this reader knows (the result is then 'unknown').
   * Absent: final shadows are not compared, only the desyncs found during the run count.
   */
  finalShadows?(final: unknown): FinalShadows | string;
}

export interface NoDesyncOffence {
  problem: 'desync' | 'shadow-differs' | 'shadow-ahead' | 'player-missing';
  event: BotEvent;
  server?: ServerView;
}

function isShadow(value: unknown): value is ShadowValue {
  const v = value as ShadowValue | undefined;
  return !!v && typeof v.version === 'number' && typeof v.checksum === 'string' && typeof v.pendingInfo === 'number';
}

/** A desync side's state version: the game may put it at the top (`version`) or in the state it carries (`state.version`). */
function versionOf(side: unknown): number | undefined {
  const top = side as { version?: unknown; state?: { version?: unknown } } | undefined;
  const v = top?.version ?? top?.state?.version;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function noDesyncChecker(options: NoDesyncOptions = {}): Checker {
  return {
    name: 'no-desync',
    description: "bots' shadow models never disagree with the server, during the run or at its end",
    appliesTo: (features) => (features.shadowModel ? undefined : 'the game has no shadow model (its client records no desync findings)'),
    check: (input) => checkNoDesync(input, options),
  };
}

/** The generic no-desync: the client's desync findings only (a game adds the final comparison). */
export const noDesync: Checker = noDesyncChecker();

function checkNoDesync(input: CheckInput, options: NoDesyncOptions): CheckResult {
  const offences = new Offences<NoDesyncOffence>();
  const lastEnd = new Map<string, BotEvent>();
  const lastStart = new Map<string, BotEvent>();
  let desyncs = 0;
  for (const entry of input.history) {
    if (entry.type !== 'event') continue;
    const event = entry as BotEvent;
    if (event.f === 'desync') {
      desyncs++;
      const value = event.value as { expected?: unknown; actual?: unknown } | undefined;
      // The wider the version gap, the worse the desync.
      offences.add({ problem: 'desync', event }, event.index, 1e6 + Math.abs((versionOf(value?.expected) ?? 0) - (versionOf(value?.actual) ?? 0)));
    } else if (event.f === 'session-end') lastEnd.set(event.player, event);
    else if (event.f === 'session-start') lastStart.set(event.player, event);
  }

  const skippedPending: string[] = [];
  const stillRunning: string[] = [];
  const unverifiable: string[] = [];
  let compared = 0;
  let withoutShadow = 0;
  const { final } = input;
  const reader = options.finalShadows && final !== undefined ? options.finalShadows(final) : undefined;
  if (reader !== undefined && typeof reader !== 'string') {
    for (const [player, event] of lastEnd) {
      const start = lastStart.get(player);
      if (start && start.index > event.index) {
        stillRunning.push(player);
        continue;
      }
      if (!isShadow(event.value)) {
        // A bot that never got a welcome has no shadow to compare.
        if ((event.value as { version?: unknown } | undefined)?.version === undefined) withoutShadow++;
        else unverifiable.push(player);
        continue;
      }
      const shadow = event.value;
      if (shadow.pendingInfo > 0) {
        skippedPending.push(player);
        continue;
      }
      compared++;
      const server = reader.finalOf(player);
      if (!server) {
        offences.add({ problem: 'player-missing', event }, event.index, 1);
        continue;
      }
      if (shadow.version > server.version) {
        offences.add({ problem: 'shadow-ahead', event, server }, event.index, shadow.version - server.version);
      } else if (shadow.version === server.version) {
        if (shadow.checksum !== server.checksum) offences.add({ problem: 'shadow-differs', event, server }, event.index, 1);
      } else {
        // Changes may have landed after the bot left: compare with the server's state at the shadow's version.
        const then = reader.at(player, shadow.version);
        if (!then || then.version !== shadow.version) unverifiable.push(player);
        else if (then.checksum !== shadow.checksum) offences.add({ problem: 'shadow-differs', event, server: then }, event.index, 1);
      }
    }
  }

  const details = {
    desyncEvents: desyncs,
    shadowsCompared: compared,
    skippedWithPendingInfo: skippedPending.length,
    skippedPlayers: skippedPending.slice(0, 20),
    note: skippedPending.length ? `${plural(skippedPending.length, 'bot')} ended with info ops pending: their shadows may legitimately lag the server and are not counted against` : undefined,
    stillRunning: stillRunning.length,
    withoutShadow,
    unverifiable: unverifiable.slice(0, 20),
    finalSnapshot: final !== undefined,
  };
  if (offences.count > 0) {
    return invalidResult('no-desync', `${plural(offences.count, 'desync')}; first: ${describe(offences.first!)}`, offences, details);
  }
  if (!options.finalShadows) {
    return { name: 'no-desync', valid: true, summary: `no desync events (the game compares no final shadows with its final state)`, details };
  }
  if (final === undefined) {
    return { name: 'no-desync', valid: 'unknown', summary: 'no desync during the run, but no final snapshot to compare the bots\' shadows with', details };
  }
  if (typeof reader === 'string') {
    return { name: 'no-desync', valid: 'unknown', summary: `no desync during the run, but the final state cannot be compared with the bots' shadows: ${reader}`, details };
  }
  const skipped = skippedPending.length ? `; ${plural(skippedPending.length, 'bot')} with pending info ops not compared` : '';
  return { name: 'no-desync', valid: true, summary: `no desync events; ${plural(compared, 'final shadow')} match the server${skipped}`, details };
}

function describe(offence: NoDesyncOffence): string {
  const { event } = offence;
  const who = `${event.process} (${event.player}, history #${event.index})`;
  const shadow = event.value as Partial<ShadowValue> | undefined;
  switch (offence.problem) {
    case 'desync': {
      const value = event.value as { reason?: unknown; expected?: unknown; actual?: unknown; seq?: unknown } | undefined;
      const reason = typeof value?.reason === 'string' ? ` (${value.reason})` : '';
      const seq = typeof value?.seq === 'number' ? ` at seq ${value.seq}` : '';
      return `${who} saw a desync${reason}${seq}: its shadow expected ${describeSide(value?.expected)}, the server sent ${describeSide(value?.actual)}`;
    }
    case 'shadow-differs':
      return `${who} ended with its shadow at ${describeSide(shadow)}; the server has ${describeSide(offence.server)} at that version`;
    case 'shadow-ahead':
      return `${who} ended with its shadow at ${describeSide(shadow)}, ahead of the server's final ${describeSide(offence.server)}`;
    case 'player-missing':
      return `${who} ended its session but the player is missing from the final state`;
  }
}

/** One side of a desync as a person reads it: version and checksum when the game recorded them, else what it did record. */
export function describeSide(side: unknown): string {
  if (side === undefined || side === null) return 'nothing (the client recorded no value)';
  const version = versionOf(side);
  const checksum = (side as { checksum?: unknown }).checksum;
  const known = [version !== undefined ? `version ${version}` : '', typeof checksum === 'string' ? `checksum ${checksum}` : ''].filter(Boolean);
  if (known.length > 0) return known.join(', ');
  const text = JSON.stringify(side) ?? String(side);
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}
