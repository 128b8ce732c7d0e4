/**
 * recovery: after the last fault heals, every bot that was playing (and had not ended its session
 * by plan) completes an ok action within limits.reconnectWithinMs; no bot gives up.
 */
import type { BotEvent, ClientOp } from '../../core/history';
import type { Checker, CheckInput, CheckResult } from '../types';
import { Offences, invalidResult, plural } from '../ops';
import { faultWindows } from '../phases';
import { recoveryTimes, type BotRecovery } from '../recovery-times';
import { formatDuration } from '../../core/duration';

export interface RecoveryOffence {
  problem: 'gave-up' | 'not-recovered' | 'late';
  process: string;
  player: string;
  /** ms from the heal to the first ok action (late), or null when none came. */
  recoveredAfterMs?: number | null;
  op: ClientOp | BotEvent;
}

export const recovery: Checker = {
  name: 'recovery',
  description: 'after the last heal every bot completes an action within recovery.reconnectWithin (counted from the heal, or from when the bot chose to act if later); none gives up',
  check(input: CheckInput): CheckResult {
    const limit = input.limits.reconnectWithinMs;
    const timeline = faultWindows(input.history);
    if (timeline.unhealed.length > 0 && input.lastHealAt === undefined) {
      return { name: 'recovery', valid: 'unknown', summary: `fault ${timeline.unhealed.join(', ')} never stopped: there is no heal to recover from`, details: { unhealed: timeline.unhealed } };
    }
    const lastHealAt = input.lastHealAt ?? timeline.lastHealAt;
    const offences = new Offences<RecoveryOffence>();

    if (lastHealAt === undefined) {
      for (const entry of input.history) {
        if (entry.type === 'event' && entry.f === 'gave-up') {
          offences.add({ problem: 'gave-up', process: entry.process, player: entry.player, op: entry }, entry.index, 1e12);
        }
      }
      if (offences.count) return invalidResult('recovery', `no faults, yet ${plural(offences.count, 'bot')} gave up; first: ${offences.first!.process} at ${formatDuration(offences.first!.op.time)}`, offences);
      return { name: 'recovery', valid: true, summary: 'no faults were injected: nothing to recover from', details: { faults: 0 } };
    }

    const times = recoveryTimes(input.history, lastHealAt);
    const deadline = lastHealAt + limit;
    let undecided = 0;
    let slowest = 0;
    for (const event of times.gaveUp) {
      offences.add({ problem: 'gave-up', process: event.process, player: event.player, op: event }, event.index, 1e12);
    }
    const gaveUp = new Set(times.gaveUp.map((event) => event.process));
    for (const bot of times.expected) {
      if (bot.firstOkAt === undefined) {
        if (gaveUp.has(bot.process)) continue; // already an offence of its own
        // The run ended before the deadline: the bot might still have made it.
        if (input.runEndAt < deadline) {
          undecided++;
          continue;
        }
        offences.add(offence(bot, 'not-recovered', null), bot.op.index, 1e11);
        continue;
      }
      const after = bot.recoveredAfterMs ?? bot.firstOkAt - lastHealAt;
      slowest = Math.max(slowest, after);
      if (after > limit) offences.add(offence(bot, 'late', after), bot.op.index, after);
    }

    const details = {
      lastHealAt,
      reconnectWithinMs: limit,
      botsExpected: times.expected.length,
      endedBeforeHeal: times.endedBeforeHeal,
      thinkingThroughEnd: times.thinkingThroughEnd,
      slowestRecoveryMs: slowest,
      undecidedAtRunEnd: undecided,
    };
    if (offences.count > 0) {
      return invalidResult('recovery', `${plural(offences.count, 'bot')} did not recover within ${formatDuration(limit)} of the last heal; first: ${describe(offences.first!)}`, offences, details);
    }
    if (undecided > 0) {
      return { name: 'recovery', valid: 'unknown', summary: `the run ended ${formatDuration(input.runEndAt - lastHealAt)} after the last heal, before the ${formatDuration(limit)} deadline, with ${plural(undecided, 'bot')} not yet recovered`, details };
    }
    return { name: 'recovery', valid: true, summary: `all ${plural(times.expected.length, 'bot')} completed an action within ${formatDuration(slowest)} of the last heal (limit ${formatDuration(limit)})`, details };
  },
};

function offence(bot: BotRecovery, problem: 'not-recovered' | 'late', after: number | null): RecoveryOffence {
  return { problem, process: bot.process, player: bot.player, recoveredAfterMs: after, op: bot.op };
}

function describe(offence: RecoveryOffence): string {
  switch (offence.problem) {
    case 'gave-up':
      return `${offence.process} gave up at ${formatDuration(offence.op.time)}`;
    case 'not-recovered':
      return `${offence.process} never completed an action after the heal (last seen at ${formatDuration(offence.op.time)}, history #${offence.op.index})`;
    case 'late':
      return `${offence.process} took ${formatDuration(offence.recoveredAfterMs ?? 0)} to complete an action after the heal (think time excluded)`;
  }
}
