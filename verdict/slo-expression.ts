/**
 * SLO limits as short strings, like k6 thresholds: 'p(99)<50ms', 'avg<=20ms', 'max<2s',
 * 'rate<1%' or 'rate<0.01' (error rate), '<10s' (time to recover).
 */
export type SloStat = { kind: 'percentile'; p: number } | { kind: 'avg' | 'max' | 'min' | 'rate' | 'count' | 'value' };
export type SloOperator = '<' | '<=' | '>' | '>=';

export interface SloExpression {
  source: string;
  stat: SloStat;
  op: SloOperator;
  /** Limit in ms for times, as a ratio (0..1) for rates, a plain number for counts. */
  value: number;
}

const PATTERN = /^\s*(?:(p)\((\d+(?:\.\d+)?)\)|(avg|max|min|rate|count))?\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*(ms|s|m|%)?\s*$/;

export const SLO_HINT = "write e.g. 'p(99)<50ms', 'avg<=20ms', 'max<2s', 'rate<1%' or '<10s'";

export function parseSloExpression(source: string): SloExpression {
  const match = PATTERN.exec(source);
  if (!match) throw new Error(`"${source}" is not an SLO expression; ${SLO_HINT}`);
  const [, p, pValue, named, op, rawValue, unit] = match;
  let stat: SloStat;
  if (p) {
    const percentile = Number(pValue);
    if (percentile <= 0 || percentile > 100) throw new Error(`"${source}": percentile must be in (0, 100]`);
    stat = { kind: 'percentile', p: percentile };
  } else {
    stat = { kind: (named as 'avg' | 'max' | 'min' | 'rate' | 'count' | undefined) ?? 'value' };
  }
  let value = Number(rawValue);
  if (unit === 's') value *= 1000;
  else if (unit === 'm') value *= 60_000;
  else if (unit === '%') value /= 100;
  if (stat.kind === 'rate' && unit !== '%' && value > 1) throw new Error(`"${source}": a rate is a ratio in [0, 1] or a percentage like 1%`);
  return { source, stat, op: op as SloOperator, value };
}

export function sloHolds(expression: SloExpression, observed: number): boolean {
  switch (expression.op) {
    case '<':
      return observed < expression.value;
    case '<=':
      return observed <= expression.value;
    case '>':
      return observed > expression.value;
    case '>=':
      return observed >= expression.value;
  }
}

/** The expression's statistic over plain values (max for a bare '<10s'). */
export function statOfValues(expression: SloExpression, values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const stat = expression.stat;
  switch (stat.kind) {
    case 'avg':
      return sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
    case 'min':
      return sorted[0];
    case 'count':
      return sorted.length;
    case 'percentile':
      return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((stat.p / 100) * sorted.length) - 1))];
    default:
      return sorted[sorted.length - 1]; // max, and a bare '<100'
  }
}
