/**
 * The reference game's no-desync: the generic checker, plus the comparison of every bot's final
 * shadow with the reference's FinalSnapshot (at the shadow's version, by replaying the player's log,
 * when gifts arrived after the bot left). It takes the generic no-desync's place in the catalog.
 */
import { noDesyncChecker, type FinalShadows } from '../../../verdict/checkers/no-desync';
import { checksum } from '../rules/checksum';
import { changesByPlayer, replayPlayer } from './replay';
import { isFinalSnapshot, notASnapshot } from './final-snapshot';

export function referenceFinalShadows(final: unknown): FinalShadows | string {
  if (!isFinalSnapshot(final)) return notASnapshot(final);
  const players = new Map(final.players.map((p) => [p.state.id, p]));
  let changes: ReturnType<typeof changesByPlayer> | undefined;
  return {
    finalOf(player) {
      const snapshot = players.get(player);
      return snapshot && { version: snapshot.state.version, checksum: snapshot.checksum };
    },
    at(player, version) {
      changes ??= changesByPlayer(final);
      const replayed = replayPlayer(player, changes.get(player) ?? [], final, { upToVersion: version }).state;
      return { version: replayed.version, checksum: checksum(replayed) };
    },
  };
}

export const referenceNoDesync = noDesyncChecker({ finalShadows: referenceFinalShadows });
