/**
 * The bot's shadow of its player: it applies its acked actions and gift pushes with the shared
 * game logic, strictly in version order, and compares the server's checksum after every change.
 * On top of that confirmed state it keeps a prediction, as a pipelining client does: every action
 * sent and not yet answered is applied optimistically (in seq order, default world facts); an ack
 * confirms it (the confirmed state moves on), a refusal or an unknown outcome rolls it back.
 * Only the confirmed state is compared with the server. No Node APIs here.
 */
import { canonicalJson, checksum } from '../rules/checksum';
import { applyAction, applyGiftReceived, factsFromResult, type Action, type ActionResult, type PlayerState } from '../rules/model';

export type ShadowChange =
  | { source: 'ack'; version: number; checksum: string; seq: number; action: Action; result: ActionResult; duplicate: boolean }
  | { source: 'push'; version: number; checksum: string; from: string; amount: number };

export interface DesyncFinding {
  reason: 'checksum-mismatch' | 'result-mismatch' | 'stale-version' | 'version-gap' | 'state-regressed' | 'welcome-checksum';
  seq?: number;
  expected: unknown;
  actual: unknown;
}

export class ShadowModel {
  private current: PlayerState | null = null;
  private currentChecksum = '';
  private readonly buffered = new Map<number, ShadowChange>();
  /** Set after a desync until a fresh server snapshot replaces the shadow. */
  private resyncing = false;
  /** seq → an action sent and not yet answered (applied optimistically on top of the confirmed state). */
  private readonly optimistic = new Map<number, Action>();

  get state(): PlayerState | null {
    return this.current;
  }
  get checksum(): string {
    return this.currentChecksum;
  }
  get version(): number {
    return this.current?.version ?? -1;
  }
  get isResyncing(): boolean {
    return this.resyncing;
  }
  /** Buffered changes waiting for a missing version. */
  get hasGap(): boolean {
    return this.buffered.size > 0;
  }
  get bufferedVersions(): number[] {
    return [...this.buffered.keys()].sort((a, b) => a - b);
  }

  /** The confirmed state with every unanswered action applied optimistically, lowest seq first. */
  get predicted(): PlayerState | null {
    let state = this.current;
    if (!state) return null;
    for (const seq of [...this.optimistic.keys()].sort((a, b) => a - b)) state = applyAction(state, this.optimistic.get(seq)!, seq).state;
    return state;
  }
  get pendingPredictions(): number {
    return this.optimistic.size;
  }

  /** An action went out: predict it until its answer. */
  predict(seq: number, action: Action): void {
    this.optimistic.set(seq, action);
  }

  /** The action's answer came (an ack confirms it through `offer`; a refusal or info rolls it back). */
  settlePrediction(seq: number): void {
    this.optimistic.delete(seq);
  }

  /** Replaces the shadow with a server snapshot (welcome or read); buffered changes it covers are dropped. */
  adopt(state: PlayerState, serverChecksum: string): DesyncFinding | undefined {
    this.current = state;
    this.currentChecksum = checksum(state);
    this.resyncing = false;
    for (const version of [...this.buffered.keys()]) if (version <= state.version) this.buffered.delete(version);
    this.drain();
    if (this.currentChecksum !== serverChecksum) {
      return { reason: 'welcome-checksum', expected: { checksum: this.currentChecksum, state }, actual: { checksum: serverChecksum } };
    }
    return undefined;
  }

  /** Forget buffered changes and predictions (the link died: the welcome snapshot will replace them). */
  clearBuffer(): void {
    this.buffered.clear();
    this.optimistic.clear();
  }

  /** Marks the shadow as untrusted until the next `adopt` (a read was requested). */
  startResync(): void {
    this.resyncing = true;
    this.buffered.clear();
  }

  /** Offers one ack or push; returns what it found wrong, if anything. */
  offer(change: ShadowChange): DesyncFinding[] {
    if (!this.current || this.resyncing) return [];
    if (change.version <= this.current.version) {
      // A duplicate ack replays a stored result the shadow already holds (via the welcome snapshot).
      if (change.source === 'ack' && change.duplicate) return [];
      return [
        {
          reason: 'stale-version',
          seq: change.source === 'ack' ? change.seq : undefined,
          expected: { versionAbove: this.current.version },
          actual: describe(change),
        },
      ];
    }
    this.buffered.set(change.version, change);
    return this.drain();
  }

  private drain(): DesyncFinding[] {
    const findings: DesyncFinding[] = [];
    for (let steps = 0; this.current && steps < 100_000; steps++) {
      const change = this.buffered.get(this.current.version + 1);
      if (!change) break;
      this.buffered.delete(change.version);
      const finding = this.apply(change);
      if (finding) {
        findings.push(finding);
        this.startResync();
        break;
      }
    }
    return findings;
  }

  private apply(change: ShadowChange): DesyncFinding | undefined {
    const before = this.current!;
    let next: PlayerState;
    let expectedResult: ActionResult | undefined;
    if (change.source === 'ack') {
      const applied = applyAction(before, change.action, change.seq, factsFromResult(change.result));
      next = applied.state;
      expectedResult = applied.result;
    } else {
      next = applyGiftReceived(before, change.amount);
    }
    const nextChecksum = checksum(next);
    this.current = next;
    this.currentChecksum = nextChecksum;
    if (expectedResult && change.source === 'ack' && canonicalJson(expectedResult) !== canonicalJson(change.result)) {
      return { reason: 'result-mismatch', seq: change.seq, expected: { state: next, checksum: nextChecksum, result: expectedResult }, actual: describe(change) };
    }
    if (nextChecksum !== change.checksum) {
      return {
        reason: 'checksum-mismatch',
        seq: change.source === 'ack' ? change.seq : undefined,
        expected: { state: next, checksum: nextChecksum, result: expectedResult },
        actual: describe(change),
      };
    }
    return undefined;
  }
}

function describe(change: ShadowChange): Record<string, unknown> {
  return change.source === 'ack'
    ? { source: 'ack', seq: change.seq, version: change.version, checksum: change.checksum, result: change.result, duplicate: change.duplicate }
    : { source: 'push', version: change.version, checksum: change.checksum, from: change.from, amount: change.amount };
}
