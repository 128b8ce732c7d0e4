import { applyAction, applyGiftReceived, collectReward, newPlayer, STARTING_GOLD, upgradeCost, xpToNextLevel, type PlayerState } from './model';

const rich = (gold: number): PlayerState => ({ ...newPlayer('p1'), gold });

describe('applyAction', () => {
  it('collect adds the level reward and xp, levels up at the threshold, bumps version and lastSeq', () => {
    const start = { ...newPlayer('p1'), xp: xpToNextLevel(1) - 5 };
    const { state, result } = applyAction(start, { kind: 'collect' }, 1);
    expect(result).toEqual({ outcome: 'applied', goldDelta: collectReward(1), ledger: [{ kind: 'source', reason: 'collect', amount: collectReward(1) }] });
    expect(state).toMatchObject({ gold: STARTING_GOLD + collectReward(1), level: 2, xp: 0, version: 1, lastSeq: 1 });
  });

  it('buy debits the price, adds the item (and gems for a gem pack), writes a sink', () => {
    const { state, result } = applyAction(rich(500), { kind: 'buy', item: 'gem-pack' }, 1);
    expect(result).toEqual({ outcome: 'applied', goldDelta: -200, ledger: [{ kind: 'sink', reason: 'buy', amount: 200 }] });
    expect(state.inventory).toEqual({ 'gem-pack': 1 });
    expect(state.gems).toBe(15);
  });

  it('rejects without changing gold but still consumes the seq and bumps the version', () => {
    const start = rich(10);
    const { state, result } = applyAction(start, { kind: 'upgrade' }, 7);
    expect(result).toEqual({ outcome: 'rejected', reason: 'insufficient-gold' });
    expect(state).toEqual({ ...start, version: 1, lastSeq: 7 });
    expect(applyAction(start, { kind: 'buy', item: 'dragon' as never }, 1).result).toEqual({ outcome: 'rejected', reason: 'unknown-item' });
  });

  it('upgrade costs 50 per level', () => {
    const { state } = applyAction(rich(1000), { kind: 'upgrade' }, 1);
    expect(state.gold).toBe(1000 - upgradeCost(1));
    expect(state.level).toBe(2);
  });

  it.each([
    [{ to: 'p2', amount: 0 }, 'invalid-amount'],
    [{ to: 'p2', amount: 1.5 }, 'invalid-amount'],
    [{ to: 'p1', amount: 5 }, 'invalid-target'],
    [{ to: '', amount: 5 }, 'invalid-target'],
    [{ to: 'p2', amount: 10_000 }, 'insufficient-gold'],
  ])('gift-send %j is rejected as %s', (gift, reason) => {
    expect(applyAction(rich(100), { kind: 'gift-send', ...gift }, 1).result).toEqual({ outcome: 'rejected', reason });
  });

  it('gift-send debits the sender without a ledger entry; the credit adds it and bumps the recipient version', () => {
    const sent = applyAction(rich(100), { kind: 'gift-send', to: 'p2', amount: 40 }, 1);
    expect(sent.result).toEqual({ outcome: 'applied', goldDelta: -40, ledger: [] });
    const received = applyGiftReceived(newPlayer('p2'), 40);
    expect(received.gold + sent.state.gold).toBe(STARTING_GOLD + 100);
    expect(received.version).toBe(1);
    expect(received.lastSeq).toBe(0);
  });

  it('never mutates its input', () => {
    const start = rich(500);
    const frozen = JSON.stringify(start);
    applyAction(start, { kind: 'buy', item: 'sword' }, 1);
    applyGiftReceived(start, 5);
    expect(JSON.stringify(start)).toBe(frozen);
  });
});
