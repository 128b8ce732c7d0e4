/** Small PromQL helpers: the metric names an expression reads, a shape check, Grafana variables. */
import { isKnownMetricName } from './metric-names';

const FUNCTIONS_AND_KEYWORDS = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset',
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'histogram_quantile', 'label_replace', 'label_join',
  'abs', 'clamp_min', 'clamp_max', 'vector', 'scalar', 'time', 'avg_over_time', 'max_over_time', 'min_over_time',
  'sum_over_time', 'count_over_time', 'last_over_time', 'absent', 'resets', 'changes', 'round', 'ceil', 'floor', 'inf', 'nan',
]);

/** Removes label matchers, ranges, grouping clauses and strings, leaving metric names and functions. */
function stripNonMetricParts(expr: string): string {
  return expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
}

/** Metric names an expression reads (identifiers that are not functions, keywords or labels). */
export function metricNamesIn(expr: string): string[] {
  const names = new Set<string>();
  const stripped = stripNonMetricParts(expr);
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const after = stripped.slice((match.index ?? 0) + word.length).trimStart();
    if (after.startsWith('(')) continue; // a function call
    if (FUNCTIONS_AND_KEYWORDS.has(word.toLowerCase())) continue;
    if (/^(e|Inf|NaN)$/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

/** Problems with an expression's shape: unbalanced brackets, unknown metrics, no metric at all. */
export function promqlProblems(expr: string): string[] {
  const problems: string[] = [];
  if (expr.trim() === '') return ['empty expression'];
  const closers: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  let inString = false;
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '(' || ch === '[' || ch === '{') stack.push(ch);
    else if (ch in closers) {
      if (stack.pop() !== closers[ch]) problems.push(`unbalanced '${ch}' at ${i}`);
    }
  }
  if (inString) problems.push('unterminated string');
  if (stack.length > 0) problems.push(`unclosed '${stack.join('')}'`);
  const metrics = metricNamesIn(expr);
  if (metrics.length === 0) problems.push('reads no metric');
  for (const name of metrics) if (!isKnownMetricName(name)) problems.push(`unknown metric ${name} (not in METRICS.md)`);
  return problems;
}

/** Replaces Grafana's range variables so an expression runs against Prometheus directly. */
export function resolveGrafanaVariables(expr: string, rateWindowSeconds: number, stepSeconds: number): string {
  return expr
    .replace(/\$__rate_interval/g, `${Math.max(1, Math.round(rateWindowSeconds))}s`)
    .replace(/\$__interval/g, `${Math.max(1, Math.round(stepSeconds))}s`);
}
