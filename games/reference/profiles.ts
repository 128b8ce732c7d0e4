/**
 * The reference game's behaviour profiles: a weighted action mix, a think-time distribution and a
 * session shape; `settings.giftAmount` is read by the gift-send generator. No Node APIs here.
 */
import type { BehaviourProfile } from '../../core/game';

export const PROFILES: Readonly<Record<string, BehaviourProfile>> = {
  casual: {
    name: 'casual',
    description: 'Plays now and then: mostly collects and buys, ~2 s between actions, long sessions.',
    mix: [
      { action: 'collect', weight: 50 },
      { action: 'buy', weight: 30 },
      { action: 'upgrade', weight: 15 },
      { action: 'gift-send', weight: 5 },
    ],
    thinkTime: { kind: 'lognormal', mean: 2000, sigma: 0.8, min: 50, max: 30_000 },
    sessionLength: { kind: 'lognormal', mean: 180_000, sigma: 0.5 },
    offlineTime: { kind: 'exponential', mean: 5000, min: 500, max: 60_000 },
    settings: { giftAmount: { min: 1, max: 20 } },
  },
  grinder: {
    name: 'grinder',
    description: 'Farms: collect and upgrade, ~300 ms between actions, never leaves.',
    mix: [
      { action: 'collect', weight: 70 },
      { action: 'upgrade', weight: 20 },
      { action: 'buy', weight: 10 },
    ],
    thinkTime: { kind: 'exponential', mean: 300, min: 20, max: 5000 },
    sessionLength: { kind: 'never' },
    offlineTime: { kind: 'constant', value: 1000 },
    settings: { giftAmount: { min: 1, max: 1 } },
  },
  gifter: {
    name: 'gifter',
    description: "Sends gold to other bots' players (exercises conservation), ~1 s between actions.",
    mix: [
      { action: 'gift-send', weight: 60 },
      { action: 'collect', weight: 40 },
    ],
    thinkTime: { kind: 'exponential', mean: 1000, min: 20, max: 10_000 },
    sessionLength: { kind: 'lognormal', mean: 120_000, sigma: 0.5 },
    offlineTime: { kind: 'exponential', mean: 3000, min: 500, max: 30_000 },
    settings: { giftAmount: { min: 1, max: 25 } },
  },
  churner: {
    name: 'churner',
    description: 'Short sessions (~8 s) with many voluntary disconnects and resumes, ~500 ms between actions.',
    mix: [
      { action: 'collect', weight: 60 },
      { action: 'buy', weight: 30 },
      { action: 'upgrade', weight: 10 },
    ],
    thinkTime: { kind: 'exponential', mean: 500, min: 20, max: 5000 },
    sessionLength: { kind: 'exponential', mean: 8000, min: 1000, max: 60_000 },
    offlineTime: { kind: 'exponential', mean: 1500, min: 200, max: 10_000 },
    settings: { giftAmount: { min: 1, max: 1 } },
  },
  'guild-member': {
    name: 'guild-member',
    description: 'Pays into and draws from one shared guild bank (settings.guild), ~1 s between actions: a hot spot.',
    mix: [
      { action: 'guild-deposit', weight: 50 },
      { action: 'guild-withdraw', weight: 35 },
      { action: 'collect', weight: 15 },
    ],
    thinkTime: { kind: 'exponential', mean: 1000, min: 20, max: 10_000 },
    sessionLength: { kind: 'never' },
    offlineTime: { kind: 'constant', value: 1000 },
    settings: { guild: 'guild-1', guildAmount: { min: 5, max: 40 } },
  },
};
