/**
 * After a crash: `toxiproxy-reset` debris (a toxic or a disabled proxy was live) is undone with
 * POST /reset, which removes every toxic and enables every proxy. A Toxiproxy that is gone has
 * nothing left to undo.
 */
import { ToxiproxyApi } from '../../stack/toxiproxy-api';
import type { DebrisUndoer, DebrisUndoers } from '../../stack/undo-debris';

/** Somewhere down the error's cause chain the connection was refused (fetch wraps the socket error). */
function isConnectionRefused(error: unknown): boolean {
  for (let current = error as { code?: string; cause?: unknown } | undefined; current; current = current.cause as typeof current) {
    if (current.code === 'ECONNREFUSED') return true;
  }
  return false;
}

export const undoToxiproxyReset: DebrisUndoer<{ kind: 'toxiproxy-reset'; apiUrl: string }> = async (item, options) => {
  try {
    await new ToxiproxyApi(item.apiUrl, options.callTimeoutMs ?? 3000).reset();
    return { outcome: 'undone', detail: 'POST /reset' };
  } catch (error) {
    if (isConnectionRefused(error)) return { outcome: 'absent', detail: 'toxiproxy not running' };
    return { outcome: 'failed', detail: (error as Error).message };
  }
};

export const toxiproxyDebrisUndoers = { 'toxiproxy-reset': undoToxiproxyReset } satisfies DebrisUndoers;
