/**
 * The reference game as a plug-in: its client, actions, profiles, backend and planted defects,
 * bundled exactly as a studio's own game would be (no help the core would refuse a third party).
 * Its own checkers (games/reference/checkers) read the FinalSnapshot; the generic effect-based ones
 * read the quantities it declares (gold, gems, items; level is left out: collect levels up through xp).
 */
import * as path from 'node:path';
import { defineGame, type FinalStateSource } from '../../core/game';
import { ACTIONS } from './actions';
import { referenceCheckers } from './checkers';
import { createReferenceClient } from './client/reference-client';
import { PROFILES } from './profiles';
import { BANK_GOLD, bankOwner } from './rules/guild-bank';
import { ITEM_NAMES, STARTING_GEMS, STARTING_GOLD } from './rules/model';
import type { FinalSnapshot } from './rules/snapshot';
import { DEFECTS, type DefectName } from './server/defects';

/** One line per planted defect (server/DEFECTS.md has the fault that exposes it and what catches it). */
const DEFECT_DESCRIPTIONS: Record<DefectName, string> = {
  'ack-before-commit': 'acks as soon as the in-memory state changes; a write-behind flusher persists every 250 ms',
  'no-dedup': 'skips the duplicate lookup: a resent seq is applied again while the log keeps one row',
  'nonatomic-gift': "a gift's credit leg is a second transaction 150 ms after the debit, never retried",
  'lost-push': 'after a resume, gift pushes before the first action or read are silently skipped',
  'retry-storm': 'database errors are retried at once, no backoff, no jitter, until the budget runs out',
  'ipv4-only': 'the WebSocket listener binds 127.0.0.1 only (IPv6 clients are refused)',
  'bank-lost-update': "a guild-bank operation reads the bank's balance as cached at the start of the group commit: two in one commit, the last write wins",
};

/** GET <admin>/admin/snapshot: the final persisted state in one database snapshot. */
export async function readFinalSnapshot(source: Pick<FinalStateSource, 'adminUrl'>): Promise<FinalSnapshot> {
  const url = `${source.adminUrl}/admin/snapshot`;
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  if (!response.ok) {
    throw new Error(`GET ${url} answered ${response.status}: ${(await response.text()).slice(0, 200)}; is the backend still up? its log is in the run folder`);
  }
  return (await response.json()) as FinalSnapshot;
}

export default defineGame<FinalSnapshot>({
  name: 'reference',
  description: "lagstorm's reference game: WebSocket JSON, idempotent seqs, resume tokens, gifts between players, on PostgreSQL.",
  client: (context) => createReferenceClient(context),
  actions: ACTIONS,
  profiles: PROFILES,
  readFinalState: readFinalSnapshot,
  checkers: referenceCheckers,
  features: { stateVersions: true, shadowModel: true },
  // A guild bank owns 'bank-gold' (it starts empty), under the owner id guild:<id>.
  quantities: { gold: { initial: STARTING_GOLD }, gems: { initial: STARTING_GEMS }, [BANK_GOLD]: { initial: 0 }, ...Object.fromEntries(ITEM_NAMES.map((item) => [item, {}])) },
  finalQuantities: (final) => ({
    ...Object.fromEntries(final.players.map(({ state }) => [state.id, { gold: state.gold, gems: state.gems, ...Object.fromEntries(ITEM_NAMES.map((item) => [item, state.inventory[item] ?? 0])) }])),
    ...Object.fromEntries((final.banks ?? []).map((bank) => [bankOwner(bank.id), { [BANK_GOLD]: bank.gold }])),
  }),
  appliedKeys: (final) => final.actions.map(({ player, seq }) => ({ player, seq })),
  server: { entry: path.join(__dirname, 'server', 'main.ts'), image: 'lagstorm/reference-backend:latest' }, // the image: built by `lagstorm setup --containers`
  defects: DEFECTS.map((name) => ({ name, description: DEFECT_DESCRIPTIONS[name] })),
  selfTestDir: path.join(__dirname, 'self-test'),
});
