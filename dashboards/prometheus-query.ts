/**
 * Range data for the catalogue's panels straight from Prometheus (/api/v1/query_range), for the
 * HTML report's charts and the "every panel returns data" check.
 */
import { writeFileSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import type { CataloguePanel, PanelUnit } from './catalogue';
import { resolveGrafanaVariables } from './promql';

export interface SeriesLine {
  /** The legend text (the panel's legend template filled with the series' labels). */
  label: string;
  labels: Record<string, string>;
  /** [epoch ms, value]; non-finite values (NaN from histogram_quantile on no data) dropped. */
  points: Array<[number, number]>;
}

export interface PanelSeries {
  panelId: string;
  title: string;
  row: string;
  unit: PanelUnit;
  /** The expression as sent to Prometheus (Grafana variables resolved). */
  expr: string;
  lines: SeriesLine[];
  /** Why there is no data: HTTP/query error or timeout. */
  error?: string;
}

export interface RangeOptions {
  /** Epoch ms or Date. */
  start: number | Date;
  end: number | Date;
  stepSeconds: number;
  /** Per query; default 10 s. */
  timeoutMs?: number;
  /** Prometheus' scrape interval, to size $__rate_interval like Grafana does; default 1 s. */
  scrapeIntervalSeconds?: number;
  /** Parallel queries; default 4. */
  concurrency?: number;
}

/** Prometheus refuses more than 11 000 points per series. */
const MAX_POINTS = 11_000;

interface QueryRangeResponse {
  status: 'success' | 'error';
  error?: string;
  errorType?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
}

export function formatLegend(template: string | undefined, labels: Record<string, string>): string {
  if (!template || template === '__auto') {
    const pairs = Object.entries(labels).filter(([key]) => key !== '__name__');
    return pairs.length === 0 ? 'value' : pairs.map(([key, value]) => `${key}=${value}`).join(', ');
  }
  return template.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, key: string) => labels[key] ?? '');
}

function toMs(value: number | Date): number {
  return value instanceof Date ? value.getTime() : value;
}

async function queryPanel(baseUrl: string, panel: CataloguePanel, options: Required<Omit<RangeOptions, 'start' | 'end'>> & { startMs: number; endMs: number }): Promise<PanelSeries> {
  const rateWindow = Math.max(options.stepSeconds + options.scrapeIntervalSeconds, 4 * options.scrapeIntervalSeconds);
  const expr = resolveGrafanaVariables(panel.expr, rateWindow, options.stepSeconds);
  const base: PanelSeries = { panelId: panel.id, title: panel.title, row: panel.row, unit: panel.unit, expr, lines: [] };
  const url = new URL('/api/v1/query_range', baseUrl);
  const body = new URLSearchParams({
    query: expr,
    start: (options.startMs / 1000).toFixed(3),
    end: (options.endMs / 1000).toFixed(3),
    step: `${options.stepSeconds}`,
  });
  try {
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const text = await response.text();
    let parsed: QueryRangeResponse;
    try {
      parsed = JSON.parse(text) as QueryRangeResponse;
    } catch {
      return { ...base, error: `HTTP ${response.status}: not JSON: ${text.slice(0, 200)}` };
    }
    if (parsed.status !== 'success' || !parsed.data) {
      return { ...base, error: `HTTP ${response.status}: ${parsed.errorType ?? 'error'}: ${parsed.error ?? 'no data'}` };
    }
    const lines: SeriesLine[] = parsed.data.result.map((series) => ({
      label: formatLegend(panel.legend, series.metric),
      labels: series.metric,
      points: series.values
        .map(([t, v]): [number, number] => [Math.round(t * 1000), Number(v)])
        .filter(([, v]) => Number.isFinite(v)),
    }));
    return { ...base, lines: lines.filter((line) => line.points.length > 0) };
  } catch (error) {
    // Duck-typed: the DOMException fetch throws is not an Error of this realm under jest.
    const { name, message, cause } = (error ?? {}) as { name?: string; message?: string; cause?: { code?: string } };
    const reason = name === 'TimeoutError' || name === 'AbortError' ? `timed out after ${options.timeoutMs} ms` : `${message ?? String(error)}${cause?.code ? ` (${cause.code})` : ''}`;
    return { ...base, error: `query to ${url.origin} failed: ${reason}` };
  }
}

/** One entry per catalogue panel, in catalogue order; never throws for a failing query (see `error`). */
export async function fetchPanelSeries(prometheusUrl: string, catalogue: readonly CataloguePanel[], range: RangeOptions): Promise<PanelSeries[]> {
  const startMs = toMs(range.start);
  const endMs = toMs(range.end);
  if (!(endMs > startMs)) throw new Error(`fetchPanelSeries: end (${endMs}) must be after start (${startMs})`);
  if (!(range.stepSeconds > 0)) throw new Error('fetchPanelSeries: stepSeconds must be > 0');
  // Widen the step rather than let Prometheus refuse a long run.
  const stepSeconds = Math.max(range.stepSeconds, Math.ceil((endMs - startMs) / 1000 / MAX_POINTS));
  const options = {
    startMs,
    endMs,
    stepSeconds,
    timeoutMs: range.timeoutMs ?? 10_000,
    scrapeIntervalSeconds: range.scrapeIntervalSeconds ?? 1,
    concurrency: Math.max(1, range.concurrency ?? 4),
  };
  const results: PanelSeries[] = new Array(catalogue.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < catalogue.length) {
      const index = next++;
      results[index] = await queryPanel(prometheusUrl, catalogue[index], options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, catalogue.length) }, worker));
  return results;
}

/** Every catalogue panel's series over the run, plus panels.json in the run folder (what each PromQL returned). */
export async function snapshotPanels(prometheusUrl: string, catalogue: readonly CataloguePanel[], range: RangeOptions, runDir: string): Promise<PanelSeries[] | undefined> {
  const series = await fetchPanelSeries(prometheusUrl, catalogue, range).catch(() => undefined);
  const rows = (series ?? []).map((panel) => ({ id: panel.panelId, expr: panel.expr, series: panel.lines.length, points: panel.lines.reduce((n, line) => n + line.points.length, 0), error: panel.error }));
  writeFileSync(pathJoin(runDir, 'panels.json'), JSON.stringify(rows, null, 2));
  return series;
}
