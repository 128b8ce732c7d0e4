/**
 * no-desync: no bot ever saw the server disagree with its shadow model, and every bot's final
 * shadow (its 'session-end', when no info ops were pending) equals the server's final state for
 * that player (or the server's state at the shadow's version, when gifts arrived after the bot left).
 */
import type { BotEvent } from '../../core/history';
import type { Checker, CheckInput, CheckResult } from '../types';
import { Offences, invalidResult, plural } from '../ops';
import { changesByPlayer, replayPlayer } from '../replay';
import { checksum } from '../../games/reference/rules/checksum';

interface ShadowValue {
  version: number;
  checksum: string;
  pendingInfo: number;
}

export interface NoDesyncOffence {
  problem: 'desync' | 'shadow-differs' | 'shadow-ahead' | 'player-missing';
  event: BotEvent;
  server?: { version: number; checksum: string };
}

function isShadow(value: unknown): value is ShadowValue {
  const v = value as ShadowValue | undefined;
  return !!v && typeof v.version === 'number' && typeof v.checksum === 'string' && typeof v.pendingInfo === 'number';
}

function versionOf(side: unknown): number {
  const v = (side as { version?: unknown } | undefined)?.version;
  return typeof v === 'number' ? v : 0;
}

export const noDesync: Checker = {
  name: 'no-desync',
  description: "bots' shadow models never disagree with the server, during the run or at its end",
  check(input: CheckInput): CheckResult {
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
        offences.add({ problem: 'desync', event }, event.index, 1e6 + Math.abs(versionOf(value?.expected) - versionOf(value?.actual)));
      } else if (event.f === 'session-end') lastEnd.set(event.player, event);
      else if (event.f === 'session-start') lastStart.set(event.player, event);
    }

    const skippedPending: string[] = [];
    const stillRunning: string[] = [];
    const unverifiable: string[] = [];
    let compared = 0;
    let withoutShadow = 0;
    const { final } = input;
    if (final) {
      const server = new Map(final.players.map((p) => [p.state.id, p]));
      let changes: ReturnType<typeof changesByPlayer> | undefined;
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
        const snapshot = server.get(player);
        if (!snapshot) {
          offences.add({ problem: 'player-missing', event }, event.index, 1);
          continue;
        }
        const serverView = { version: snapshot.state.version, checksum: snapshot.checksum };
        if (shadow.version > snapshot.state.version) {
          offences.add({ problem: 'shadow-ahead', event, server: serverView }, event.index, shadow.version - snapshot.state.version);
        } else if (shadow.version === snapshot.state.version) {
          if (shadow.checksum !== snapshot.checksum) offences.add({ problem: 'shadow-differs', event, server: serverView }, event.index, 1);
        } else {
          // Gifts may have landed after the bot left: compare with the server's state at the shadow's version.
          changes ??= changesByPlayer(final);
          const replayed = replayPlayer(player, changes.get(player) ?? [], final, { upToVersion: shadow.version }).state;
          if (replayed.version !== shadow.version) unverifiable.push(player);
          else if (checksum(replayed) !== shadow.checksum) {
            offences.add({ problem: 'shadow-differs', event, server: { version: replayed.version, checksum: checksum(replayed) } }, event.index, 1);
          }
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
    if (!final) {
      return { name: 'no-desync', valid: 'unknown', summary: 'no desync during the run, but no final snapshot to compare the bots\' shadows with', details };
    }
    const skipped = skippedPending.length ? `; ${plural(skippedPending.length, 'bot')} with pending info ops not compared` : '';
    return { name: 'no-desync', valid: true, summary: `no desync events; ${plural(compared, 'final shadow')} match the server${skipped}`, details };
  },
};

function describe(offence: NoDesyncOffence): string {
  const { event } = offence;
  const who = `${event.process} (${event.player}, history #${event.index})`;
  const shadow = event.value as Partial<ShadowValue> | undefined;
  switch (offence.problem) {
    case 'desync': {
      const value = event.value as { expected?: { version?: number; checksum?: string }; actual?: { version?: number; checksum?: string }; seq?: number } | undefined;
      const seq = value?.seq !== undefined ? ` at seq ${value.seq}` : '';
      return `${who} saw a desync${seq}: expected version ${value?.expected?.version} ${value?.expected?.checksum}, server sent version ${value?.actual?.version} ${value?.actual?.checksum}`;
    }
    case 'shadow-differs':
      return `${who} ended with shadow version ${shadow?.version} ${shadow?.checksum}, the server has ${offence.server?.checksum} at that version`;
    case 'shadow-ahead':
      return `${who} ended with shadow version ${shadow?.version} but the server's final version is ${offence.server?.version}`;
    case 'player-missing':
      return `${who} ended its session but the player is missing from the final state`;
  }
}
