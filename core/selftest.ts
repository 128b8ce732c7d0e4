/**
 * `lagstorm selftest`: proves the verdict is right. Each planted defect of every bundled game has
 * a scenario in its game's self-test folder (games/<name>/self-test/) that must FAIL through the
 * intended checker or SLO; the same scenarios with the correct backend must PASS over several seeds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from './exit-codes';
import type { RunParts } from './parts';
import { runScenario } from './runner';
import { loadScenarioInput } from './scenario/load';
import { efficacyWords, faultsWithoutEffect, type RunSummary } from './summary';

export interface SelfTestCase {
  game: string;
  file: string;
  name: string;
  defect: string;
  /** Checker names, or `slo:<metric>`, any one of which must fail. */
  caughtBy: string[];
}

export interface SelfTestRow {
  game: string;
  /** The runtime the row ran on (`selftest --runtime`). */
  runtime: 'process' | 'containers';
  case: string;
  defect: string;
  seed: number;
  expected: 'fail' | 'pass';
  expectedCatcher: string;
  /** What actually failed (checkers and SLOs), or 'nothing'. */
  caughtBy: string[];
  verdict: RunSummary['verdict'];
  ok: boolean;
  seconds: number;
  runDir: string;
}

/** Why a run with no harness error is an error: its first fault that did not bite. */
function toothless(summary: RunSummary): string | undefined {
  const fault = faultsWithoutEffect(summary.faults)[0];
  return fault?.efficacy && `fault ${fault.id} (${fault.fault}) ${efficacyWords(fault.efficacy)}`;
}

/** Every bundled game's self-test cases, game by game. */
export function discoverAllSelfTests(parts: RunParts): SelfTestCase[] {
  return parts.games.names().flatMap((name) => {
    const game = parts.games.load(parts.games.resolve(name, '.'));
    return game.selfTestDir ? discoverSelfTests(game.selfTestDir, game.name) : [];
  });
}

export function discoverSelfTests(dir: string, game: string): SelfTestCase[] {
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.scenario.ts'))
    .sort()
    .map((file) => {
      const full = path.join(dir, file);
      const module = require(full) as { default?: { name?: string; backend?: { defect?: string } }; caughtBy?: string[] };
      const defect = module.default?.backend?.defect;
      if (!defect || defect === 'none' || !module.caughtBy?.length) {
        throw new InvalidInputError(`${full}: a self-test scenario sets backend.defect and exports \`caughtBy\` (the checkers or slo:<metric> that must catch it)`);
      }
      return { game, file: full, name: module.default?.name ?? file, defect, caughtBy: module.caughtBy };
    });
}

function failures(summary: RunSummary): string[] {
  return [
    ...summary.checks.filter((check) => check.valid === false).map((check) => check.name),
    ...summary.slos.filter((slo) => slo.ok === false).map((slo) => `slo:${slo.metric}`),
  ];
}

export interface SelfTestOptions {
  /** Seeds for the correct-backend control runs (each scenario once per seed). */
  controlSeeds?: number[];
  /** Seed of the defect runs. */
  seed?: number;
  outDir: string;
  only?: string[];
  /** Runtime of every run (default: each scenario's own, `process` unless it says otherwise). */
  runtime?: 'process' | 'containers';
  signal?: AbortSignal;
  onRow?: (row: SelfTestRow) => void;
}

export async function runSelfTest(options: SelfTestOptions, parts: RunParts): Promise<SelfTestRow[]> {
  const rows: SelfTestRow[] = [];
  const cases = discoverAllSelfTests(parts).filter((c) => !options.only?.length || options.only.includes(c.defect));
  const record = (row: SelfTestRow) => {
    rows.push(row);
    options.onRow?.(row);
  };
  for (const testCase of cases) {
    const input = loadScenarioInput(testCase.file);
    const runtime = options.runtime ?? ((input as { runtime?: unknown }).runtime === 'containers' ? 'containers' : 'process');
    const runs: Array<{ defect: string; seed: number; expected: 'fail' | 'pass' }> = [
      { defect: testCase.defect, seed: options.seed ?? 1, expected: 'fail' },
      ...(options.controlSeeds ?? [1, 2]).map((seed) => ({ defect: 'none', seed, expected: 'pass' as const })),
    ];
    for (const run of runs) {
      if (options.signal?.aborted) return rows;
      const started = Date.now();
      const summary = await runScenario({ scenarioInput: input, seed: run.seed, defect: run.defect, runtime, outDir: options.outDir, reporters: ['json', 'junit', 'markdown', 'html'], signal: options.signal }, parts);
      const caught = failures(summary);
      const ok = run.expected === 'fail' ? summary.verdict === 'fail' && caught.some((name) => testCase.caughtBy.includes(name)) : summary.verdict === 'pass';
      record({
        game: testCase.game,
        runtime,
        case: testCase.name,
        defect: run.defect,
        seed: run.seed,
        expected: run.expected,
        expectedCatcher: run.expected === 'fail' ? testCase.caughtBy.join(' | ') : '(passes)',
        caughtBy: caught.length ? caught : summary.verdict === 'error' ? [`error: ${summary.errors[0] ?? toothless(summary) ?? 'unknown'}`] : ['nothing'],
        verdict: summary.verdict,
        ok,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        runDir: summary.runDir,
      });
    }
  }
  return rows;
}

export function formatSelfTestTable(rows: SelfTestRow[]): string {
  const header = ['runtime', 'game', 'defect', 'seed', 'expected catcher', 'caught by', 'verdict', 'ok', 'seconds'];
  const body = rows.map((row) => [row.runtime, row.game, row.defect, String(row.seed), row.expectedCatcher, row.caughtBy.join(', '), row.verdict, row.ok ? 'yes' : 'NO', row.seconds.toFixed(1)]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => cells[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
