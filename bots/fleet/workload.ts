/**
 * Workload models → a deterministic plan of bots and their online windows (ms since run start).
 *
 * Closed model: `count` players; the online target rises linearly from 0 to `count` over `ramp`
 * (all at once without a ramp), then follows `stages` linearly; bot i is online while the target
 * is above i - 1 (the last started stop first). Open model: sessions arrive at `rate` per `per`
 * (moving linearly through `arrival.stages`), each lasting the profile's session length; an
 * arrival finding `maxBots` sessions online is dropped (k6's dropped_iterations).
 * The load runs for scenario.duration + recovery.window.
 */
import type { ResolvedScenario, BotGroup } from '../../core/scenario/schema';
import type { GameDefinition } from '../../core/game';
import { profileOf } from '../load-game';
import { sample } from '../../core/distributions';
import { createRng, deriveSeed } from '../../core/rng';
import { hotSpots, withHotPlayers } from './hot-spots';

export interface SessionWindow {
  start: number;
  stop: number;
}

export interface BotPlan {
  botId: string;
  /** Position in the run's deterministic order of bots (closed: per player; open: per arrival), counted over all groups: execution segments deal out slots. */
  slot: number;
  group: string;
  playerId: string;
  profile: string;
  ipv6: boolean;
  seed: number;
  windows: SessionWindow[];
  maxActions?: number;
  /** Gift recipients: `${group}-${k}` for k in [first, last], never the bot itself; `hot`: a share of them go to the first `count` (hot-spots.ts). */
  peers: { group: string; first: number; last: number; hot?: { count: number; share: number } };
  /** Act `actions` times at every multiple of `everyMs` since run start instead of the profile's think time. */
  burst?: { everyMs: number; actions: number };
  /** Closed model: the profile's voluntary disconnect/resume cycle; open model: one session, then leave. */
  voluntaryDisconnects: boolean;
}

export interface FleetPlan {
  bots: BotPlan[];
  /** Open-model arrivals that found maxBots online. */
  dropped: number;
  droppedByGroup: Record<string, number>;
  /** The slots of the dropped arrivals, by group. */
  droppedSlots: Record<string, number[]>;
  /** Slots handed out: every closed-model player and every open-model arrival. */
  slots: number;
  loadEndMs: number;
}

type Point = { t: number; value: number };

/** `giftTo` names another closed-model group (the schema checks it): gifts go to its players. */
function giftPeers(scenario: ResolvedScenario, target: string): BotPlan['peers'] {
  return { group: target, first: 1, last: scenario.bots[target]?.count ?? 0 };
}

/** The closed model's online target as a piecewise-linear function (points in time order). */
export function closedTargetPoints(group: BotGroup, name: string, loadEndMs: number): Point[] {
  const count = group.count ?? 0;
  const points: Point[] = group.ramp && group.ramp > 0 ? [{ t: 0, value: 0 }, { t: group.ramp, value: count }] : [{ t: 0, value: group.stages ? 0 : count }];
  (group.stages ?? []).forEach((stage, i) => {
    if (stage.target > count) {
      throw new Error(`bots.${name}.stages[${i}].target: ${stage.target} is more than bots.${name}.count (${count}); raise count or lower the target`);
    }
    const last = points[points.length - 1];
    points.push({ t: last.t + stage.duration, value: stage.target });
  });
  const last = points[points.length - 1];
  if (last.t < loadEndMs) points.push({ t: loadEndMs, value: last.value });
  return points;
}

/** Windows in which target(t) > level, clipped to [0, loadEndMs]. */
export function windowsAbove(points: Point[], level: number, loadEndMs: number): SessionWindow[] {
  const windows: SessionWindow[] = [];
  let onlineSince: number | undefined = points[0].value > level ? points[0].t : undefined;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (b.t <= a.t) {
      // A step (zero-length segment): the state changes at this instant.
      if (onlineSince === undefined && b.value > level) onlineSince = b.t;
      else if (onlineSince !== undefined && b.value <= level) {
        if (b.t > onlineSince) windows.push({ start: onlineSince, stop: b.t });
        onlineSince = undefined;
      }
      continue;
    }
    const crossAt = a.t + ((level - a.value) / (b.value - a.value)) * (b.t - a.t);
    if (onlineSince === undefined && a.value <= level && b.value > level) onlineSince = crossAt;
    else if (onlineSince !== undefined && a.value > level && b.value <= level) {
      if (crossAt > onlineSince) windows.push({ start: onlineSince, stop: crossAt });
      onlineSince = undefined;
    }
  }
  if (onlineSince !== undefined && onlineSince < loadEndMs) windows.push({ start: onlineSince, stop: loadEndMs });
  return windows.map((w) => ({ start: Math.max(0, w.start), stop: Math.min(loadEndMs, w.stop) })).filter((w) => w.stop > w.start);
}

/** Arrival times (ms) of the open model: constant spacing at the current rate, first arrival at 0. */
export function arrivalTimes(arrival: NonNullable<BotGroup['arrival']>, loadEndMs: number, maxArrivals = 2_000_000): number[] {
  const perMs = (rate: number): number => rate / arrival.per;
  const points: Point[] = [{ t: 0, value: perMs(arrival.rate) }];
  for (const stage of arrival.stages ?? []) {
    const last = points[points.length - 1];
    points.push({ t: last.t + stage.duration, value: perMs(stage.target) });
  }
  const last = points[points.length - 1];
  if (last.t < loadEndMs) points.push({ t: loadEndMs, value: last.value });
  const times: number[] = [];
  let cumulative = 0; // arrivals "due" at the start of the current segment
  // Arrival k happens when the cumulative count reaches k; the first at 0 when the start rate is above 0.
  let nextArrival = points[0].value > 0 ? 0 : 1;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    const length = Math.min(b.t, loadEndMs) - a.t;
    if (length <= 0) continue;
    const slope = (b.value - a.value) / (b.t - a.t);
    const area = a.value * length + (slope * length * length) / 2;
    while (nextArrival <= cumulative + area + 1e-9) {
      const need = nextArrival - cumulative;
      const x = Math.abs(slope) < 1e-15 ? (a.value > 0 ? need / a.value : 0) : (-a.value + Math.sqrt(Math.max(0, a.value * a.value + 2 * slope * need))) / slope;
      const at = a.t + Math.min(length, Math.max(0, x));
      if (at >= loadEndMs) break;
      times.push(at);
      nextArrival += 1;
      if (times.length > maxArrivals) {
        throw new Error(`the open model would start more than ${maxArrivals} sessions; lower arrival.rate or the duration`);
      }
    }
    cumulative += area;
  }
  return times;
}

/** The plan for `scenario`; the groups' profiles are looked up in `game.profiles`. */
export function buildFleetPlan(scenario: ResolvedScenario, game: Pick<GameDefinition, 'name' | 'profiles'>): FleetPlan {
  const loadEndMs = scenario.duration + scenario.recovery.window;
  const bots: BotPlan[] = [];
  const droppedByGroup: Record<string, number> = {};
  const droppedSlots: Record<string, number[]> = {};
  let slots = 0;
  for (const [group, spec] of Object.entries(scenario.bots)) {
    let profile;
    try {
      profile = profileOf(game, spec.profile);
    } catch (error) {
      throw new Error(`bots.${group}.profile: ${(error as Error).message}`);
    }
    const base = { group, profile: spec.profile, ipv6: spec.ipv6, maxActions: spec.maxActions, ...hotSpots(spec) };
    if (spec.arrival) {
      const maxBots = spec.arrival.maxBots;
      const ends = new MinHeap(); // end times of the sessions online
      let started = 0;
      let dropped = 0;
      droppedSlots[group] = [];
      for (const at of arrivalTimes(spec.arrival, loadEndMs)) {
        const slot = slots++;
        while (ends.size > 0 && ends.peek() <= at) ends.pop();
        if (ends.size >= maxBots) {
          dropped += 1;
          droppedSlots[group].push(slot);
          continue;
        }
        started += 1;
        const botId = `${group}-${started}`;
        const seed = deriveSeed(scenario.seed, botId);
        const length = sample(profile.sessionLength, createRng(deriveSeed(seed, 'session-length')));
        const stop = Math.min(loadEndMs, at + length);
        ends.push(stop);
        const peers = spec.giftTo ? giftPeers(scenario, spec.giftTo) : { group, first: 1, last: started - 1 };
        bots.push({ ...base, botId, slot, playerId: botId, seed, windows: [{ start: at, stop }], peers: withHotPlayers(peers, spec), voluntaryDisconnects: false });
      }
      droppedByGroup[group] = dropped;
    } else {
      const count = spec.count ?? 0;
      const points = closedTargetPoints(spec, group, loadEndMs);
      const firstSlot = slots;
      slots += count;
      for (let i = 1; i <= count; i++) {
        const windows = windowsAbove(points, i - 1, loadEndMs);
        if (windows.length === 0) continue;
        const botId = `${group}-${i}`;
        const peers = spec.giftTo ? giftPeers(scenario, spec.giftTo) : { group, first: 1, last: count };
        bots.push({ ...base, botId, slot: firstSlot + i - 1, playerId: botId, seed: deriveSeed(scenario.seed, botId), windows, peers: withHotPlayers(peers, spec), voluntaryDisconnects: true });
      }
      droppedByGroup[group] = 0;
      droppedSlots[group] = [];
    }
  }
  const dropped = Object.values(droppedByGroup).reduce((sum, n) => sum + n, 0);
  return { bots, dropped, droppedByGroup, droppedSlots, slots, loadEndMs };
}

/** A binary min-heap of numbers (the open model's session end times). */
class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): number {
    return this.items[0];
  }
  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent] <= items[i]) break;
      [items[parent], items[i]] = [items[i], items[parent]];
      i = parent;
    }
  }
  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && items[left] < items[smallest]) smallest = left;
        if (right < items.length && items[right] < items[smallest]) smallest = right;
        if (smallest === i) break;
        [items[smallest], items[i]] = [items[i], items[smallest]];
        i = smallest;
      }
    }
    return top;
  }
}
