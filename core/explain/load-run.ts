/**
 * A finished run folder for `lagstorm explain`: found by folder, run id or `latest`, read as its
 * summary.json, history and logs/. Every problem with the argument is an InvalidInputError
 * (exit 3) naming it and the fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../exit-codes';
import type { HistoryEntry } from '../history';
import { HISTORY_FILE, LEGACY_HISTORY_FILE, readHistoryAll } from '../history-file';
import type { RunRecord } from './explain';
import { readRunLogs, type LogFile } from './log-lines';

export interface LoadedRun {
  runDir: string;
  summary: RunRecord & { verdict?: string; scenario?: string; slos?: Array<{ metric: string; phase: string; limit: string; ok: unknown }> };
  history: HistoryEntry[];
  logs: LogFile[];
}

function recentRuns(runsDir: string): string[] {
  if (!fs.existsSync(runsDir)) return [];
  return fs
    .readdirSync(runsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(runsDir, entry.name, 'summary.json')))
    .map((entry) => entry.name)
    .sort()
    .slice(-3);
}

/** `latest`, a run folder, or a run id inside runsDir → the run's folder. */
export function resolveRunDir(run: string, runsDir: string): string {
  const candidates = run === 'latest' ? [path.join(runsDir, 'latest')] : [run, path.join(runsDir, run)];
  const found = candidates.find((candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isDirectory());
  if (!found) {
    const recent = recentRuns(runsDir);
    const hint = recent.length ? `; recent runs there: ${recent.join(', ')}` : `; there are no runs in ${runsDir} (pass --runs DIR if they are elsewhere)`;
    throw new InvalidInputError(`<run>: no run "${run}": pass a run folder (runs/<id>), a run id in ${runsDir}, or latest${hint}`);
  }
  return fs.realpathSync(found);
}

export async function loadRun(run: string, runsDir: string): Promise<LoadedRun> {
  const runDir = resolveRunDir(run, runsDir);
  const summaryFile = path.join(runDir, 'summary.json');
  if (!fs.existsSync(summaryFile)) throw new InvalidInputError(`<run>: ${runDir} has no summary.json: it is not a finished run (was it killed?); pass a run that finished, or run the scenario again`);
  if (![HISTORY_FILE, LEGACY_HISTORY_FILE].some((name) => fs.existsSync(path.join(runDir, name)))) throw new InvalidInputError(`<run>: ${runDir} has no ${HISTORY_FILE}: nothing to explain; pass a run folder written by \`lagstorm run\``);
  let summary: LoadedRun['summary'];
  try {
    summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as LoadedRun['summary'];
  } catch (error) {
    throw new InvalidInputError(`<run>: ${summaryFile} is not JSON (${(error as Error).message}); pass a run folder written by \`lagstorm run\``);
  }
  if (!Array.isArray(summary.checks) || typeof summary.runId !== 'string') throw new InvalidInputError(`<run>: ${summaryFile} is not a lagstorm run summary (no runId or checks); pass a run folder written by \`lagstorm run\``);
  summary.faults ??= [];
  let history: HistoryEntry[];
  try {
    history = await readHistoryAll(runDir);
  } catch (error) {
    throw new InvalidInputError(`<run>: ${(error as Error).message}; the history is damaged, re-run the scenario`);
  }
  return { runDir, summary, history, logs: readRunLogs(runDir) };
}
