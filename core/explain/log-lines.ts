/**
 * The run's service logs (runs/<id>/logs/*.log) on the run's timeline. Each line's time comes from
 * the line itself: a JSON line's time field (ISO or epoch), a leading ISO or PostgreSQL timestamp
 * (`2026-12-02 06:15:25.183 UTC`), or the stack's own `--- <ISO> starting ...` lines; a line without
 * one (a stack trace, a backend that prints no times) takes the time of the last line above it that
 * had one, marked approximate.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface TimedLine {
  line: number;
  /** epoch ms, or undefined before the file's first timestamp. */
  epochMs: number | undefined;
  approx: boolean;
  text: string;
}

export interface LogFile {
  /** Relative to the run folder, e.g. logs/backend.log. */
  file: string;
  role: 'backend' | 'postgres';
  lines: TimedLine[];
}

const LEADING_TIME = /^(?:---\s+)?\[?(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d+))?\s?(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?(?![\d])/;
const JSON_TIME_FIELD = /"(time|timestamp|ts|@timestamp)"\s*:\s*(?:"([^"]*)"|(-?\d+(?:\.\d+)?))/;

function zoneSuffix(zone: string | undefined): string {
  // A time without a zone is taken as UTC (what lagstorm's parts log in).
  if (zone === undefined || zone === 'Z' || zone === 'UTC' || zone === 'GMT') return 'Z';
  const digits = zone.replace(':', '');
  return `${digits.slice(0, 3)}:${digits.length > 3 ? digits.slice(3, 5) : '00'}`;
}

function epochOfValue(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value > 1e11 ? value : value * 1000; // epoch ms, or s (pino, zap)
  if (typeof value !== 'string') return undefined;
  const leading = epochOfText(value);
  if (leading !== undefined) return leading;
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

function epochOfText(text: string): number | undefined {
  const match = LEADING_TIME.exec(text);
  if (!match) return undefined;
  const [, date, time, fraction, zone] = match;
  const ms = fraction ? `.${fraction.slice(0, 3).padEnd(3, '0')}` : '';
  const parsed = Date.parse(`${date}T${time}${ms}${zoneSuffix(zone)}`);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** The time a log line says it was written, in epoch ms, or undefined when it carries none. */
export function timeOfLine(text: string): number | undefined {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    // A JSON line's time field, read without parsing the whole line (logs run to hundreds of thousands of lines).
    const field = JSON_TIME_FIELD.exec(trimmed);
    const epoch = field ? epochOfValue(field[2] !== undefined ? field[2] : Number(field[3])) : undefined;
    if (epoch !== undefined) return epoch;
  }
  return epochOfText(trimmed);
}

export function parseLogText(text: string): TimedLine[] {
  const lines: TimedLine[] = [];
  let last: number | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    const own = timeOfLine(raw);
    if (own !== undefined) last = own;
    lines.push({ line: i + 1, epochMs: own ?? last, approx: own === undefined, text: raw });
  });
  return lines;
}

/** Harness parts whose logs say nothing about the game (the proxy's API calls, the scraper). */
const HARNESS_LOGS = /^(toxiproxy|prometheus)\b/;

export function logRole(fileName: string): LogFile['role'] | undefined {
  if (!fileName.endsWith('.log') || HARNESS_LOGS.test(fileName)) return undefined;
  return /^postgres/.test(fileName) ? 'postgres' : 'backend';
}

/** Every service log of a run folder: the backend's (and its extra services') and PostgreSQL's. */
export function readRunLogs(runDir: string): LogFile[] {
  const logsDir = path.join(runDir, 'logs');
  if (!fs.existsSync(logsDir)) return [];
  return fs
    .readdirSync(logsDir)
    .sort()
    .flatMap((name): LogFile[] => {
      const role = logRole(name);
      if (!role) return [];
      const full = path.join(logsDir, name);
      if (!fs.statSync(full).isFile()) return [];
      return [{ file: path.join('logs', name), role, lines: parseLogText(fs.readFileSync(full, 'utf8')) }];
    });
}
