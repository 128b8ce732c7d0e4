/** The Colyseus example's behaviour profiles. No Node APIs here. */
import type { BehaviourProfile } from 'lagstorm';

export const PROFILES: Readonly<Record<string, BehaviourProfile>> = {
  miner: {
    name: 'miner',
    description: 'Mostly mines, sometimes trades or gifts; ~300 ms between actions; never leaves.',
    mix: [
      { action: 'mine', weight: 70 },
      { action: 'trade', weight: 15 },
      { action: 'gift', weight: 15 },
    ],
    thinkTime: { kind: 'exponential', mean: 300, min: 20, max: 3000 },
    sessionLength: { kind: 'never' },
    offlineTime: { kind: 'constant', value: 1000 },
    settings: { giftGems: { min: 1, max: 5 }, tradeGems: { min: 1, max: 3 }, tradeGold: { min: 1, max: 15 } },
  },
  trader: {
    name: 'trader',
    description: 'Gifts and trades gems with other players, ~400 ms apart; short sessions (~6 s) with rejoins.',
    mix: [
      { action: 'gift', weight: 45 },
      { action: 'trade', weight: 35 },
      { action: 'mine', weight: 20 },
    ],
    thinkTime: { kind: 'exponential', mean: 400, min: 20, max: 4000 },
    sessionLength: { kind: 'exponential', mean: 6000, min: 2000, max: 20_000 },
    offlineTime: { kind: 'exponential', mean: 1000, min: 200, max: 5000 },
    settings: { giftGems: { min: 1, max: 10 }, tradeGems: { min: 1, max: 5 }, tradeGold: { min: 1, max: 20 } },
  },
};
