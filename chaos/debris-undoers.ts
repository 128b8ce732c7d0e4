/**
 * Composition root of after-crash cleanup: every fault family's undoers by debris kind. The stack
 * undoes its own kinds (processes, dirs) and receives this map wherever it undoes debris
 * (`lagstorm cleanup`, teardown of a started stack); it never imports chaos itself.
 */
import type { DebrisUndoers, FaultDebrisKind } from '../stack/undo-debris';
import { kernelDebrisUndoers } from './kernel';
import { toxiproxyDebrisUndoers } from './toxiproxy';
import { walDebrisUndoers } from './wal';

/** Complete: a debris kind added to stack/debris.ts without an undoer here does not compile. */
export const debrisUndoers = {
  ...toxiproxyDebrisUndoers,
  ...kernelDebrisUndoers,
  ...walDebrisUndoers,
} satisfies Required<DebrisUndoers> & Record<FaultDebrisKind, unknown>;
