/**
 * Hot spots: workload options that concentrate activity on a few players or instants, so races that
 * need two changes to the same state at once happen (issue #14). `hotPlayers`: a share of a group's
 * gifts go to the first few players of the target group; `burst`: the whole group acts at the same
 * instant. Deterministic: one Rng draw per peer pick, as `pickPeer` promises.
 */
import type { BotGroup } from '../../core/scenario/schema';
import type { Rng } from '../../core/rng';
import type { BotPlan } from './workload';

/** The plan fields a group's hot-spot options add (none when it sets none). */
export function hotSpots(group: BotGroup): Pick<BotPlan, 'burst'> {
  return group.burst ? { burst: { everyMs: group.burst.every, actions: group.burst.actions } } : {};
}

export function withHotPlayers(peers: BotPlan['peers'], group: BotGroup): BotPlan['peers'] {
  return group.hotPlayers ? { ...peers, hot: { count: group.hotPlayers.count, share: group.hotPlayers.share } } : peers;
}

/**
 * The index k in [first, last] (never `self`) that `u` in [0, 1) picks: below `hot.share` among the
 * first `hot.count`, else evenly among all; undefined when there is nobody but self.
 */
export function pickPeerIndex(u: number, first: number, last: number, self: number, hot?: { count: number; share: number }): number | undefined {
  if (hot && hot.share > 0 && u < hot.share) {
    const inHot = pickIn(u / hot.share, first, Math.min(last, first + hot.count - 1), self);
    if (inHot !== undefined) return inHot;
    // The only hot player is the bot itself: its gift goes to anyone.
    return pickIn(u / hot.share, first, last, self);
  }
  const rest = hot && hot.share > 0 ? (hot.share >= 1 ? 0 : (u - hot.share) / (1 - hot.share)) : u;
  return pickIn(rest, first, last, self);
}

function pickIn(u: number, first: number, last: number, self: number): number | undefined {
  const selfInside = self >= first && self <= last;
  const others = last - first + 1 - (selfInside ? 1 : 0);
  if (others <= 0) return undefined;
  let k = first + Math.min(others - 1, Math.floor(u * others));
  if (selfInside && k >= self) k += 1; // skip self
  return k;
}

/** A pickPeer over a plan's peers with hot players: one draw per pick. */
export function hotPeerPicker(plan: BotPlan, self: number): (rng: Rng) => string | undefined {
  const { group, first, last, hot } = plan.peers;
  return (rng) => {
    const k = pickPeerIndex(rng.next(), first, last, self, hot);
    return k === undefined ? undefined : `${group}-${k}`;
  };
}
