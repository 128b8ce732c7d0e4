/**
 * The Colyseus example's planted defects (`--defect <name>`), each a shape seen in real game
 * backends, and each caught by a generic checker in a self-test scenario (../self-test/).
 */
export const DEFECTS = {
  'save-on-leave': "player state lives in room memory and is written to PostgreSQL only when the player leaves; a crash loses every acknowledged change since (acked-effects)",
  'nonatomic-transfer': "a gift's or trade's second leg (the peer's) is its own transaction 150 ms after the first, never retried; a cut database link loses it (transfers-conserved)",
} as const;

export type DefectName = keyof typeof DEFECTS;

export function isDefect(name: string): name is DefectName {
  return Object.hasOwn(DEFECTS, name);
}
