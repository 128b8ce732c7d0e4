import { checksum } from '../rules/checksum';
import { applyAction, newPlayer, STARTING_GOLD, type Action } from '../rules/model';
import { ShadowModel } from './shadow';

const deposit: Action = { kind: 'guild-deposit', guild: 'g1', amount: 30 };
const sword: Action = { kind: 'buy', item: 'sword' };

function adopted(): ShadowModel {
  const shadow = new ShadowModel();
  const start = newPlayer('p1');
  expect(shadow.adopt(start, checksum(start))).toBeUndefined();
  return shadow;
}

describe('ShadowModel optimistic prediction (pipelining)', () => {
  it('applies every unanswered action optimistically, in seq order, on top of the confirmed state', () => {
    const shadow = adopted();
    shadow.predict(2, sword);
    shadow.predict(1, deposit);
    expect(shadow.pendingPredictions).toBe(2);
    expect(shadow.predicted).toMatchObject({ gold: STARTING_GOLD - 30 - 120, lastSeq: 2, version: 2, inventory: { sword: 1 } });
    // The confirmed state is untouched until an ack.
    expect(shadow.state).toMatchObject({ gold: STARTING_GOLD, version: 0 });
  });

  it('rolls a refused action back and keeps the rest predicted', () => {
    const shadow = adopted();
    shadow.predict(1, deposit);
    shadow.predict(2, sword);
    shadow.settlePrediction(1); // refused (fail)
    expect(shadow.predicted).toMatchObject({ gold: STARTING_GOLD - 120, inventory: { sword: 1 } });
  });

  it('an ack confirms the action: the confirmed state moves on and the prediction equals it once all are answered', () => {
    const shadow = adopted();
    shadow.predict(1, deposit);
    const applied = applyAction(newPlayer('p1'), deposit, 1);
    shadow.settlePrediction(1);
    const findings = shadow.offer({ source: 'ack', version: 1, checksum: checksum(applied.state), seq: 1, action: deposit, result: applied.result, duplicate: false });
    expect(findings).toEqual([]);
    expect(shadow.state).toEqual(applied.state);
    expect(shadow.predicted).toEqual(applied.state);
  });

  it('a lost link drops every prediction (the welcome snapshot replaces the shadow)', () => {
    const shadow = adopted();
    shadow.predict(1, deposit);
    shadow.clearBuffer();
    expect(shadow.pendingPredictions).toBe(0);
    expect(shadow.predicted).toEqual(shadow.state);
  });
});
