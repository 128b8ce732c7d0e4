/**
 * nftables tables of lagstorm's own: one function removes a table, for the fault's heal and for
 * `lagstorm cleanup` after a crash (debris kind `nft-table`) alike.
 */
import { HarnessError } from '../../core/exit-codes';
import type { DebrisUndoer, DebrisUndoers } from '../../stack/undo-debris';
import { runCommand } from '../util';

export const NFT = 'nft';
const NFT_FAMILIES = ['inet', 'ip', 'ip6'] as const;
export type NftFamily = (typeof NFT_FAMILIES)[number];
const NFT_NAME = /^[A-Za-z0-9_-]+$/;

export async function nftTableExists(table: string, family: NftFamily = 'inet', timeoutMs = 5000): Promise<boolean> {
  const { stdout } = await runCommand(NFT, ['list', 'tables', family], { timeoutMs });
  return stdout.split('\n').some((line) => line.trim() === `table ${family} ${table}`);
}

/** Deletes the table and reads back that it is gone; 'absent' when it was gone already. Refuses odd names. */
export async function removeNftTable(table: string, family: NftFamily = 'inet', timeoutMs = 5000): Promise<'deleted' | 'absent'> {
  if (!NFT_FAMILIES.includes(family) || !NFT_NAME.test(table)) throw new HarnessError(`refusing odd nft table ${family} ${table}`);
  if (!(await nftTableExists(table, family, timeoutMs))) return 'absent';
  await runCommand(NFT, ['delete', 'table', family, table], { timeoutMs });
  if (await nftTableExists(table, family, timeoutMs)) throw new HarnessError(`nft table ${family} ${table} still exists after deleting it`);
  return 'deleted';
}

export const undoNftTable: DebrisUndoer<{ kind: 'nft-table'; family: NftFamily; table: string }> = async (item, options) => {
  const result = await removeNftTable(item.table, item.family, options.callTimeoutMs ?? 10_000);
  return result === 'deleted' ? { outcome: 'undone', detail: 'table deleted' } : { outcome: 'absent', detail: 'no such table' };
};

export const kernelDebrisUndoers = { 'nft-table': undoNftTable } satisfies DebrisUndoers;
