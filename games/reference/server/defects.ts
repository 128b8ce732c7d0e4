/**
 * Planted defects: realistic production bugs of a few lines each, off by default, switched on with
 * --defect NAME (or LAGSTORM_BACKEND_DEFECT). The harness validates scenario names against DEFECTS.
 * backend/DEFECTS.md lists the fault that exposes each one and the checker that should catch it.
 */
export const DEFECTS = ['ack-before-commit', 'no-dedup', 'nonatomic-gift', 'lost-push', 'retry-storm', 'ipv4-only', 'bank-lost-update'] as const;
export type DefectName = (typeof DEFECTS)[number];

export function isDefectName(name: string): name is DefectName {
  return (DEFECTS as readonly string[]).includes(name);
}

/**
 * Parses a defect switch: '' / 'none' → no defect; 'a,b' → several. Throws naming the bad entry.
 */
export function parseDefects(value: string | undefined): ReadonlySet<DefectName> {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '' && name !== 'none');
  const unknown = names.filter((name) => !isDefectName(name));
  if (unknown.length > 0) {
    throw new Error(`unknown defect '${unknown.join("', '")}': use one of ${DEFECTS.join(', ')} (or 'none')`);
  }
  return new Set(names as DefectName[]);
}
