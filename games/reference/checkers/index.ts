/**
 * The reference game's own checkers, over its FinalSnapshot: acked-durable, exactly-once,
 * conservation, and a no-desync that also compares final shadows with the snapshot. The game
 * plug-in lists them as `checkers: referenceCheckers`, beside the generic ones in verdict/.
 */
import type { Checker } from '../../../verdict/types';
import { ackedDurable } from './acked-durable';
import { exactlyOnce } from './exactly-once';
import { conservation } from './conservation';
import { referenceNoDesync } from './no-desync';

export const referenceCheckers: Checker[] = [ackedDurable, exactlyOnce, conservation, referenceNoDesync];

export { ackedDurable, exactlyOnce, conservation, referenceNoDesync };
export { referenceFinalShadows } from './no-desync';
export { isFinalSnapshot, snapshotProblem } from './final-snapshot';
export { replayPlayer, changesByPlayer } from './replay';
