/**
 * The WAL family: pressure through SQL (checkpoint storm, WAL flood, stuck slot, failing archiver)
 * and pg_wal on a loop volume of its own (full, slow); the undo of their settings, slots, mounts,
 * loop devices, cgroups and blkio throttles.
 */
import type { Fault } from '../fault';
import { pgDebrisUndoers } from './pg-debris';
import { volumeDebrisUndoers } from './volume-debris';
import { walFaults as sqlWalFaults } from './wal-faults';
import { walVolumeFaults } from './wal-volume-faults';

export const walFaults: Fault[] = [...sqlWalFaults, ...walVolumeFaults];
export const walDebrisUndoers = { ...pgDebrisUndoers, ...volumeDebrisUndoers };
