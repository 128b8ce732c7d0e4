/**
 * Did each fault bite? After the run, every injected fault is judged by its own `judge` on its
 * measured observations and on what the bots saw in its window (the history). A fault whose inject
 * failed is not judged: that is already a harness error.
 */
import { isClientOp, type HistoryEntry } from '../core/history';
import type { FaultRecord } from '../core/summary';
import type { BotsWindow } from './fault';
import type { FaultRegistry } from './registry';

/** Effects such as a pong timeout or a resend land a little after the heal; they still count. */
export const WINDOW_GRACE_MS = 2000;

/** What the bots saw between `from` and `to` (ms since run start). */
export function botsWindow(history: ReadonlyArray<HistoryEntry>, from: number, to: number): BotsWindow {
  const window: BotsWindow = { actions: { ok: 0, fail: 0, info: 0 }, linksLost: 0, loginsFailed: 0, closes: 0 };
  const inside = (time: number) => time >= from && time <= to;
  for (const entry of history) {
    if (isClientOp(entry)) {
      if (entry.type === 'invoke' || !inside(entry.time)) continue;
      if (entry.f === 'login') {
        if (entry.type !== 'ok') window.loginsFailed += 1;
      } else if (entry.seq !== undefined) window.actions[entry.type] += 1;
    } else if (entry.type === 'event') {
      if (entry.f === 'session-end' && inside(entry.time)) window.closes += 1;
      if (entry.f === 'reconnected') {
        const value = (entry.value ?? {}) as { voluntary?: boolean; resumeMs?: number };
        const lostAt = entry.time - (value.resumeMs ?? 0); // the reconnect began when the link dropped
        if (inside(lostAt)) {
          window.closes += 1;
          if (!value.voluntary) window.linksLost += 1;
        }
      }
    }
  }
  return window;
}

/**
 * Each record with its `efficacy`. `history` is the run's (absent for a nemesis run without bots,
 * whose faults are judged on their own measurements). A judge that throws counts as no effect shown.
 */
export function judgeFaults(records: ReadonlyArray<FaultRecord>, registry: FaultRegistry, history?: ReadonlyArray<HistoryEntry>): FaultRecord[] {
  return records.map((record) => {
    if (record.error?.startsWith('inject:') || !registry.has(record.fault)) return record;
    const fault = registry.get(record.fault);
    const to = (record.stoppedAt ?? record.startedAt) + WINDOW_GRACE_MS;
    try {
      const efficacy = fault.judge({
        params: registry.parse(record.fault, record.params),
        observations: record.observations ?? {},
        ...(history ? { bots: botsWindow(history, record.startedAt, to) } : {}),
      });
      return { ...record, efficacy: { ...efficacy, proof: fault.proof } };
    } catch (error) {
      return { ...record, efficacy: { bit: false, effect: `could not be judged: ${(error as Error).message}`, proof: fault.proof } };
    }
  });
}
