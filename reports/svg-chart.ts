/** Line charts as inline SVG, drawn at build time (no JS libraries, nothing fetched). */
import type { PanelSeries } from '../dashboards/prometheus-query';
import { formatByUnit, type AbsoluteFaultWindow } from './format';

export const SERIES_COLORS = ['#3274d9', '#e0752d', '#56a64b', '#a352cc', '#f2cc0c', '#37872d', '#c4162a', '#8ab8ff', '#ff9830', '#73bf69'];

export interface ChartOptions {
  /** Epoch ms of the x axis; labels are seconds since startMs. */
  startMs: number;
  endMs: number;
  faultWindows: AbsoluteFaultWindow[];
  width?: number;
  height?: number;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function round(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  const nice = residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1;
  return nice * magnitude;
}

function secondsLabel(ms: number): string {
  const s = ms / 1000;
  return s >= 120 ? `${(s / 60).toFixed(s % 60 === 0 ? 0 : 1)}m` : `${Math.round(s)}s`;
}

/** One chart: fault bands (shaded), grid, axes, one path per series; a "no data" frame otherwise. */
export function renderChart(panel: PanelSeries, options: ChartOptions): string {
  const width = options.width ?? 560;
  const height = options.height ?? 220;
  const margin = { left: 64, right: 12, top: 10, bottom: 26 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const points = panel.lines.flatMap((line) => line.points);
  const label = `${escapeHtml(panel.title)}`;
  const open = `<svg class="chart${points.length === 0 ? ' no-data' : ''}" data-panel="${escapeHtml(panel.panelId)}" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${label}">`;
  if (points.length === 0) {
    const why = panel.error ? `no data: ${panel.error}` : 'no data in this run';
    return `${open}<rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" fill="none" stroke="#ccc"/><text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="no-data-text">${escapeHtml(why.slice(0, 90))}</text></svg>`;
  }

  const xMin = Math.min(options.startMs, ...points.map(([t]) => t));
  const xMax = Math.max(options.endMs, ...points.map(([t]) => t), xMin + 1);
  let yMin = Math.min(0, ...points.map(([, v]) => v));
  let yMax = Math.max(...points.map(([, v]) => v));
  if (panel.unit === 'bool' || panel.unit === 'percentunit') yMax = Math.max(yMax, 1);
  if (yMax === yMin) yMax = yMin + 1;
  const yStep = niceStep(yMax - yMin, 4);
  yMax = Math.ceil(yMax / yStep) * yStep;
  yMin = Math.floor(yMin / yStep) * yStep;
  const x = (t: number): number => margin.left + ((t - xMin) / (xMax - xMin)) * plotW;
  const y = (v: number): number => margin.top + plotH - ((v - yMin) / (yMax - yMin)) * plotH;

  const parts: string[] = [open];
  for (const window of options.faultWindows) {
    const x0 = Math.max(margin.left, x(window.startMs));
    const x1 = Math.min(margin.left + plotW, x(window.endMs));
    if (x1 <= x0) continue;
    parts.push(`<rect class="fault-band" data-fault="${escapeHtml(window.fault)}" x="${round(x0)}" y="${margin.top}" width="${round(Math.max(1, x1 - x0))}" height="${plotH}"><title>${escapeHtml(`${window.fault} (${window.id})`)}</title></rect>`);
  }
  for (let v = yMin; v <= yMax + yStep / 2; v += yStep) {
    const yy = round(y(v));
    parts.push(`<line class="grid" x1="${margin.left}" x2="${margin.left + plotW}" y1="${yy}" y2="${yy}"/>`);
    parts.push(`<text class="tick" x="${margin.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${escapeHtml(formatByUnit(v, panel.unit))}</text>`);
  }
  const xStep = niceStep(xMax - options.startMs, 5);
  for (let t = 0; options.startMs + t <= xMax; t += xStep) {
    const xx = x(options.startMs + t);
    if (xx < margin.left - 0.5) continue;
    parts.push(`<text class="tick" x="${round(xx)}" y="${height - 8}" text-anchor="middle">${secondsLabel(t)}</text>`);
  }
  parts.push(`<rect class="frame" x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}"/>`);
  panel.lines.forEach((line, index) => {
    const color = SERIES_COLORS[index % SERIES_COLORS.length];
    const sorted = [...line.points].sort((a, b) => a[0] - b[0]);
    const d = sorted.map(([t, v], i) => `${i === 0 ? 'M' : 'L'}${round(x(t))},${round(y(v))}`).join(' ');
    parts.push(`<path class="series" data-points="${sorted.length}" d="${d}" stroke="${color}"><title>${escapeHtml(line.label)}</title></path>`);
    if (sorted.length === 1) parts.push(`<circle cx="${round(x(sorted[0][0]))}" cy="${round(y(sorted[0][1]))}" r="2.5" fill="${color}"/>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Legend under a chart: a colour swatch and the series' label. */
export function renderLegend(panel: PanelSeries): string {
  if (panel.lines.length === 0) return '';
  const items = panel.lines.map((line, index) => `<li><span class="swatch" style="background:${SERIES_COLORS[index % SERIES_COLORS.length]}"></span>${escapeHtml(line.label)}</li>`);
  return `<ul class="legend">${items.join('')}</ul>`;
}

/** The fault timeline: one bar per fault across the run. */
export function renderFaultTimeline(windows: AbsoluteFaultWindow[], startMs: number, endMs: number, width = 900): string {
  const rowH = 22;
  const left = 180;
  const height = 26 + windows.length * rowH;
  const span = Math.max(1, endMs - startMs);
  const x = (t: number): number => left + ((t - startMs) / span) * (width - left - 12);
  const parts = [`<svg class="fault-timeline" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="Fault timeline">`];
  windows.forEach((window, index) => {
    const yy = 4 + index * rowH;
    const x0 = x(window.startMs);
    const x1 = Math.max(x0 + 2, x(window.endMs));
    parts.push(`<text class="tick" x="${left - 8}" y="${yy + 11}" text-anchor="end" dominant-baseline="middle">${escapeHtml(`${window.fault} (${window.id})`.slice(0, 32))}</text>`);
    parts.push(`<rect class="fault-bar${window.healed ? '' : ' unhealed'}" data-fault="${escapeHtml(window.fault)}" x="${round(x0)}" y="${yy + 3}" width="${round(x1 - x0)}" height="${rowH - 8}"><title>${escapeHtml(`${window.fault}: ${secondsLabel(window.startMs - startMs)} → ${window.stopped ? secondsLabel(window.endMs - startMs) : 'never stopped'}${window.healed ? '' : ', NOT healed'}`)}</title></rect>`);
  });
  const axisY = height - 8;
  const step = niceStep(span, 6);
  for (let t = 0; t <= span; t += step) parts.push(`<text class="tick" x="${round(x(startMs + t))}" y="${axisY}" text-anchor="middle">${secondsLabel(t)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}
