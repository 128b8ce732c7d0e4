/**
 * After the last heal, how long each bot took to complete an ok action again. Shared by the
 * recovery checker and the time_to_recover SLO.
 */
import type { BotEvent, ClientOp, HistoryEntry } from '../core/history';

export interface BotRecovery {
  process: string;
  player: string;
  /** Completion time of the first ok action at or after the heal; undefined: never recovered. */
  firstOkAt?: number;
  /**
   * ms the bot needed to recover: from the heal, or from when it chose to act if it was thinking
   * past the heal (firstOkAt - max(heal, intendedAt)); a long think time is not slowness.
   */
  recoveredAfterMs?: number;
  /** The op that shows it recovered (or, if it never did, its last entry before the heal). */
  op: ClientOp | BotEvent;
}

export interface RecoveryTimes {
  lastHealAt: number;
  /** Bots active before the heal that had not ended their session by plan. */
  expected: BotRecovery[];
  /** Bots whose session had ended (by plan) before the heal. */
  endedBeforeHeal: number;
  /** Bots still connected at the end, no action due yet since the heal (a long think time), so no evidence either way. */
  thinkingThroughEnd: number;
  gaveUp: BotEvent[];
}

export function recoveryTimes(history: ReadonlyArray<HistoryEntry>, lastHealAt: number): RecoveryTimes {
  const bots = new Map<string, { player: string; activeBefore: boolean; endedBefore: boolean; lastBefore?: ClientOp | BotEvent; firstOk?: ClientOp; invokedAfter?: boolean; thinkingUntil?: number }>();
  const gaveUp: BotEvent[] = [];
  for (const entry of history) {
    if (entry.process === 'nemesis') continue;
    const item = entry as ClientOp | BotEvent;
    let bot = bots.get(item.process);
    if (!bot) bots.set(item.process, (bot = { player: item.player, activeBefore: false, endedBefore: false }));
    if (item.type === 'event') {
      if (item.f === 'gave-up') gaveUp.push(item);
      if (item.f === 'session-end' && item.time >= lastHealAt) bot.thinkingUntil = (item.value as { thinkingUntil?: number } | undefined)?.thinkingUntil;
      if (item.time < lastHealAt) {
        if (item.f === 'session-end') bot.endedBefore = true;
        else if (item.f === 'session-start') {
          bot.endedBefore = false;
          bot.activeBefore = true;
        }
        bot.lastBefore = item;
      }
      continue;
    }
    if (item.type === 'invoke' && item.time < lastHealAt) {
      bot.activeBefore = true;
      bot.lastBefore = item;
    }
    if (item.type === 'invoke' && item.time >= lastHealAt && item.seq !== undefined) bot.invokedAfter = true;
    if (item.type === 'ok' && item.seq !== undefined && item.time >= lastHealAt && (!bot.firstOk || item.time < bot.firstOk.time)) bot.firstOk = item;
  }
  const expected: BotRecovery[] = [];
  let endedBeforeHeal = 0;
  let thinkingThroughEnd = 0;
  for (const [process, bot] of bots) {
    if (!bot.activeBefore) continue;
    if (bot.endedBefore) {
      endedBeforeHeal++;
      continue;
    }
    if (!bot.firstOk && !bot.invokedAfter && bot.thinkingUntil !== undefined) {
      thinkingThroughEnd++;
      continue;
    }
    const firstOk = bot.firstOk;
    const recoveredAfterMs = firstOk ? firstOk.time - Math.max(lastHealAt, firstOk.intendedAt ?? lastHealAt) : undefined;
    expected.push({ process, player: bot.player, firstOkAt: firstOk?.time, recoveredAfterMs, op: firstOk ?? bot.lastBefore! });
  }
  return { lastHealAt, expected, endedBeforeHeal, thinkingThroughEnd, gaveUp };
}
