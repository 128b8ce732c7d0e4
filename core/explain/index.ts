/**
 * `lagstorm explain <run> [--check NAME] [--op N]`: the cross-layer evidence of a run's offending
 * operations. Bad arguments are InvalidInputErrors (exit 3) naming the argument and the fix.
 */
import { InvalidInputError } from '../exit-codes';
import { explainRun, type ExplainOptions, type ExplainResult } from './explain';
import { formatExplanation, formatUnlocated } from './format';
import { loadRun, type LoadedRun } from './load-run';

export { explainRun, grafanaLink, grafanaUrlFromEnv, DEFAULT_GRAFANA_URL, type ExplainOptions, type ExplainResult, type RunRecord } from './explain';
export { readRunLogs } from './log-lines';
export { formatExplanation, formatUnlocated } from './format';
export { loadRun, resolveRunDir } from './load-run';
export type { Explanation, UnlocatedOffence } from './types';

export interface ExplainCommandOptions extends Pick<ExplainOptions, 'windowMs' | 'opsAround' | 'grafanaUrl' | 'maxLines'> {
  runsDir: string;
  check?: string;
  op?: number;
}

export interface ExplainCommandResult {
  run: LoadedRun;
  result: ExplainResult;
  text: string;
}

function validValidity(valid: unknown): string {
  return valid === true ? 'valid' : valid === false ? 'invalid' : valid === 'n/a' ? 'not applicable' : 'unknown';
}

export async function explainCommand(runArg: string, options: ExplainCommandOptions): Promise<ExplainCommandResult> {
  const run = await loadRun(runArg, options.runsDir);
  const { summary, history } = run;
  const failed = summary.checks.filter((check) => check.valid === false).map((check) => check.name);
  if (options.check !== undefined) {
    const check = summary.checks.find((candidate) => candidate.name === options.check);
    if (!check) throw new InvalidInputError(`--check: run ${summary.runId} has no check "${options.check}"; its checks are ${summary.checks.map((c) => c.name).join(', ') || '(none)'}`);
    if (check.valid !== false) {
      throw new InvalidInputError(`--check: check "${options.check}" is ${validValidity(check.valid)} in run ${summary.runId}, so it has no offending operation; ${failed.length ? `failed checks: ${failed.join(', ')}` : 'no check failed in this run'}`);
    }
  }
  const checks = options.check !== undefined ? [options.check] : undefined;
  if (options.op !== undefined) {
    const last = history.length - 1;
    if (!history.some((entry) => entry.index === options.op)) throw new InvalidInputError(`--op: history #${options.op} does not exist in run ${summary.runId} (its history has #0–#${last}); pass the history index of an offending operation`);
  }
  const result = explainRun({ summary, history, logs: run.logs }, { windowMs: options.windowMs, opsAround: options.opsAround, maxLines: options.maxLines, grafanaUrl: options.grafanaUrl, checks, op: options.op });
  if (options.op !== undefined && result.explanations.length === 0) {
    const offending = explainRun({ summary, history, logs: [] }, { checks, windowMs: 0, opsAround: 0 }).explanations.map((e) => `#${e.index} (${e.check})`);
    const entry = history.find((candidate) => candidate.index === options.op)!;
    throw new InvalidInputError(
      `--op: history #${options.op} (${entry.process} ${entry.f}) is not an offending operation of ${checks ? `check ${checks[0]}` : 'any failed check'} in run ${summary.runId}; ${offending.length ? `offending: ${offending.slice(0, 12).join(', ')}${offending.length > 12 ? ', …' : ''}` : 'no failed check names an operation'}`,
    );
  }
  return { run, result, text: render(run, result, failed) };
}

function render(run: LoadedRun, result: ExplainResult, failed: string[]): string {
  const { summary } = run;
  const head = `explain: run ${summary.runId}${summary.verdict ? ` (${summary.verdict})` : ''} in ${run.runDir}`;
  if (failed.length === 0) {
    const slos = (summary.slos ?? []).filter((slo) => slo.ok === false).map((slo) => `${slo.metric}[${slo.phase}] ${slo.limit}`);
    return `${head}\nno check failed, so there is no offending operation to explain${slos.length ? ` (SLOs broken: ${slos.join(', ')}; an SLO has no single offending operation: see the report's SLO tables and the Grafana dashboard)` : ''}`;
  }
  const sections = failed.flatMap((name) => {
    const explained = result.explanations.filter((e) => e.check === name);
    const unlocated = result.unlocated.filter((item) => item.check === name);
    if (explained.length === 0 && unlocated.length === 0) return [];
    const check = summary.checks.find((candidate) => candidate.name === name)!;
    return [`check ${name} failed: ${check.summary}`, ...explained.map(formatExplanation), ...unlocated.map(formatUnlocated)].join('\n\n');
  });
  return [head, `failed checks: ${failed.join(', ')}`, '', sections.join('\n\n')].join('\n');
}
