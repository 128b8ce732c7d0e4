/**
 * Fault windows from the nemesis' ops, and the phase of any moment of the run: 'baseline' before
 * the first fault starts, 'fault' inside any window (overlaps merged), 'recovery' after a window
 * closes (between windows too).
 */
import type { HistoryEntry, NemesisOp } from '../core/history';
import type { Phase } from './types';

export interface FaultWindow {
  /** ms since run start, inclusive. */
  start: number;
  /** ms since run start, exclusive; Infinity when a fault never stopped. */
  end: number;
  /** The nemesis ids (value.id) of the faults merged into this window. */
  ids: string[];
}

export interface PhaseTimeline {
  /** Merged, sorted, non-overlapping windows. */
  windows: FaultWindow[];
  firstFaultAt?: number;
  /** When the last fault healed; undefined with no faults, or when some fault never stopped. */
  lastHealAt?: number;
  /** Ids of faults that started and never stopped (a harness error: faults must always heal). */
  unhealed: string[];
  phaseOf(time: number): Phase;
}

export function faultWindows(history: ReadonlyArray<HistoryEntry>): PhaseTimeline {
  const starts = new Map<string, number>();
  const raw: FaultWindow[] = [];
  for (const entry of history) {
    if (entry.process !== 'nemesis') continue;
    const op = entry as NemesisOp;
    const id = String(op.value?.id ?? '');
    if (op.f === 'fault-start') {
      if (!starts.has(id)) starts.set(id, op.time);
    } else if (op.f === 'fault-stop') {
      const start = starts.get(id);
      // A stop without a start (e.g. a heal retried) marks nothing.
      if (start === undefined) continue;
      starts.delete(id);
      raw.push({ start, end: Math.max(start, op.time), ids: [id] });
    }
  }
  const unhealed = [...starts.keys()];
  for (const [id, start] of starts) raw.push({ start, end: Infinity, ids: [id] });
  raw.sort((a, b) => a.start - b.start);

  const windows: FaultWindow[] = [];
  for (const window of raw) {
    const last = windows[windows.length - 1];
    if (last && window.start <= last.end) {
      last.end = Math.max(last.end, window.end);
      last.ids.push(...window.ids);
    } else {
      windows.push({ start: window.start, end: window.end, ids: [...window.ids] });
    }
  }
  const lastEnd = windows.length ? windows[windows.length - 1].end : undefined;
  return {
    windows,
    firstFaultAt: windows[0]?.start,
    lastHealAt: lastEnd !== undefined && Number.isFinite(lastEnd) ? lastEnd : undefined,
    unhealed,
    phaseOf: (time) => phaseAt(windows, time),
  };
}

/** Binary search over the merged windows: O(log w) per lookup. */
export function phaseAt(windows: ReadonlyArray<FaultWindow>, time: number): Phase {
  if (windows.length === 0 || time < windows[0].start) return 'baseline';
  let lo = 0;
  let hi = windows.length - 1;
  // Find the last window starting at or before `time`.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (windows[mid].start <= time) lo = mid;
    else hi = mid - 1;
  }
  return time < windows[lo].end ? 'fault' : 'recovery';
}
