/** Durations in scenarios are numbers of milliseconds or strings like '250ms', '10s', '2m', '1h', '1m30s'. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`duration must be a non-negative number of ms, got ${input}`);
    return input;
  }
  const text = input.trim();
  if (!/^(\d+(?:\.\d+)?(ms|s|m|h))+$/.test(text)) {
    throw new Error(`"${input}" is not a duration; write e.g. "500ms", "10s", "2m" or "1m30s"`);
  }
  let total = 0;
  for (const match of text.matchAll(PART)) total += Number(match[1]) * UNIT_MS[match[2]];
  return total;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(2)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds ? `${minutes}m${seconds}s` : `${minutes}m`;
}
