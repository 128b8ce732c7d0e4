/**
 * `lagstorm capacity`: the largest player count at which a scenario's SLOs still hold. Each step is
 * a whole run (its own stack, faults, checkers) with the bot groups scaled to a player count: the
 * count doubles until the verdict fails, then bisects down to the resolution. A safety check that
 * fails (lost, doubled or created currency…) is a bug, not a capacity limit: the search stops there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, InvalidInputError } from './exit-codes';
import type { ReporterName } from '../reports';
import { loadScenario, runScenario } from './runner';
import type { BotGroup, Scenario } from './scenario/schema';
import type { RunSummary, Verdict } from './summary';
import { LIVENESS_CHECKS, type CheckName } from './verdict/types';

/** Players a scenario's bot groups stand for: closed-model `count`s plus open-model `maxBots`. */
export function playersOf(scenario: Pick<Scenario, 'bots'>): number {
  return Object.values(scenario.bots).reduce((sum, group) => sum + (group.count ?? group.arrival?.maxBots ?? 0), 0);
}

/**
 * The scenario's bots scaled to `players` in total, each group keeping its share (largest
 * remainder, at least one bot per group); stage targets and arrival rates scale by the same factor.
 */
export function scaleBots(scenario: Scenario, players: number): Scenario {
  const groups = Object.entries(scenario.bots);
  if (players < groups.length) throw new InvalidInputError(`cannot spread ${players} players over ${groups.length} bot groups: start at ${groups.length} or more`);
  const base = playersOf(scenario);
  const factor = players / base;
  const shares = groups.map(([name, group]) => {
    const exact = (group.count ?? group.arrival?.maxBots ?? 0) * factor;
    return { name, whole: Math.max(1, Math.floor(exact)), remainder: exact - Math.floor(exact) };
  });
  // Largest remainder: hand out what flooring left over, biggest fractions first (ties by name, deterministic).
  let left = players - shares.reduce((sum, share) => sum + share.whole, 0);
  for (const share of [...shares].sort((a, b) => b.remainder - a.remainder || a.name.localeCompare(b.name))) {
    if (left <= 0) break;
    share.whole += 1;
    left -= 1;
  }
  for (const share of [...shares].sort((a, b) => b.whole - a.whole || a.name.localeCompare(b.name))) {
    while (left < 0 && share.whole > 1) {
      share.whole -= 1; // the one-bot minimum overshot: take it back from the biggest groups
      left += 1;
    }
  }
  const scaleStages = (stages: BotGroup['stages']) => stages?.map((stage) => ({ ...stage, target: Math.max(0, Math.round(stage.target * factor)) }));
  const bots = Object.fromEntries(
    shares.map(({ name, whole }): [string, BotGroup] => {
      const group = scenario.bots[name];
      if (group.count !== undefined) return [name, { ...group, count: whole, ...(group.stages ? { stages: scaleStages(group.stages) } : {}) }];
      const arrival = group.arrival!;
      return [name, { ...group, arrival: { ...arrival, rate: arrival.rate * factor, maxBots: whole, ...(arrival.stages ? { stages: scaleStages(arrival.stages) } : {}) } }];
    }),
  );
  return { ...scenario, bots };
}

export interface CapacityStep {
  players: number;
  verdict: Verdict;
  /** What broke: SLOs and liveness checks (a capacity limit), safety checks (a bug), harness errors. */
  sloFailures: string[];
  safetyFailures: string[];
  errors: string[];
  actionP99Ms?: number;
  actionsPerSecond: number;
  runDir: string;
  seconds: number;
}

export type CapacityOutcome =
  /** Passes at `maxPassing`, fails at `firstFailing`, within the resolution. */
  | 'found'
  /** Still passing at --max: the capacity is at least that. */
  | 'at-least-max'
  /** Fails even with one player per group. */
  | 'none'
  /** A safety check failed at some count: a bug under load, fix it first. */
  | 'bug'
  /** A step could not decide (harness or infrastructure error, saturated load generator). */
  | 'error'
  /** --max-steps ran out before the bounds met the resolution. */
  | 'steps-exhausted';

export interface CapacityResult {
  scenario: string;
  seed: number;
  outcome: CapacityOutcome;
  maxPassing?: number;
  firstFailing?: number;
  steps: CapacityStep[];
  exitCode: 0 | 1 | 2;
  /** One line for people. */
  summary: string;
}

export interface SearchOptions {
  start: number;
  /** Smallest count worth running (one bot per group). */
  min: number;
  max: number;
  /** Stop when firstFailing - maxPassing is at most this (default 5 % of maxPassing, at least 1). */
  resolution?: number;
  maxSteps: number;
  /** Fail (exit 1) when the capacity found is below this. */
  require?: number;
}

/** The search itself, over any step runner (the real one runs a whole scenario). */
export async function searchCapacity(runStep: (players: number) => Promise<CapacityStep>, options: SearchOptions): Promise<Omit<CapacityResult, 'scenario' | 'seed'>> {
  const steps: CapacityStep[] = [];
  let maxPassing: number | undefined;
  let firstFailing: number | undefined;
  let players = Math.min(Math.max(options.start, options.min), options.max);
  const finish = (outcome: CapacityOutcome, summary: string): Omit<CapacityResult, 'scenario' | 'seed'> => {
    let exitCode: 0 | 1 | 2 = outcome === 'error' || outcome === 'steps-exhausted' ? ExitCode.harnessError : outcome === 'bug' || outcome === 'none' ? ExitCode.verdictFailed : ExitCode.pass;
    let line = summary;
    if (exitCode === ExitCode.pass && options.require !== undefined && (maxPassing ?? 0) < options.require) {
      exitCode = ExitCode.verdictFailed;
      line += `; below the required ${options.require}`;
    }
    return { outcome, maxPassing, firstFailing, steps, exitCode, summary: line };
  };
  for (;;) {
    if (steps.length >= options.maxSteps) {
      return finish('steps-exhausted', `--max-steps ${options.maxSteps} ran out between ${maxPassing ?? '?'} (pass) and ${firstFailing ?? '?'} (fail) players; raise --max-steps or --resolution`);
    }
    const step = await runStep(players);
    steps.push(step);
    if (step.safetyFailures.length) return finish('bug', `at ${players} players a safety check failed (${step.safetyFailures.join('; ')}): a bug under load, not a capacity limit; see ${step.runDir}`);
    if (step.verdict === 'error') return finish('error', `at ${players} players the run could not decide (${step.errors.join('; ') || 'unknown checks or SLOs'}); see ${step.runDir}`);
    if (step.verdict === 'pass') maxPassing = players;
    else firstFailing = players;

    if (firstFailing === undefined) {
      if (players >= options.max) return finish('at-least-max', `SLOs still hold at --max ${options.max} players: the capacity is at least that`);
      players = Math.min(players * 2, options.max);
    } else if (maxPassing === undefined) {
      if (players <= options.min) return finish('none', `SLOs fail even at ${players} players (${step.sloFailures.join('; ')})`);
      players = Math.max(Math.floor(players / 2), options.min);
    } else {
      if (firstFailing - maxPassing <= (options.resolution ?? Math.max(1, Math.floor(maxPassing * 0.05)))) {
        return finish('found', `capacity: ${maxPassing} players (SLOs hold); they break at ${firstFailing}`);
      }
      players = Math.floor((maxPassing + firstFailing) / 2);
    }
  }
}

export interface CapacityRunOptions {
  scenarioFile: string;
  seed?: number;
  outDir: string;
  start?: number;
  max?: number;
  resolution?: number;
  maxSteps?: number;
  require?: number;
  reporters?: ReporterName[];
  signal?: AbortSignal;
  /** Progress lines for people. */
  print?: (line: string) => void;
}

function stepOf(players: number, summary: RunSummary, seconds: number): CapacityStep {
  const liveness = LIVENESS_CHECKS as readonly string[];
  const failedChecks = summary.checks.filter((check) => check.valid === false);
  return {
    players,
    verdict: summary.verdict,
    sloFailures: [
      ...summary.slos.filter((slo) => slo.ok === false).map((slo) => `SLO ${slo.metric}[${slo.phase}] ${slo.limit}: observed ${slo.observed}`),
      ...failedChecks.filter((check) => liveness.includes(check.name as CheckName)).map((check) => `${check.name}: ${check.summary}`),
    ],
    safetyFailures: failedChecks.filter((check) => !liveness.includes(check.name as CheckName)).map((check) => `${check.name}: ${check.summary}`),
    errors: summary.errors,
    actionP99Ms: summary.stats.latency.all?.p99,
    actionsPerSecond: summary.stats.actionsPerSecond,
    runDir: summary.runDir,
    seconds,
  };
}

/** Runs the search with real runs under `<outDir>/capacity-<time>/` and writes capacity.json and capacity.md there. */
export async function runCapacity(options: CapacityRunOptions): Promise<CapacityResult & { dir: string }> {
  const { scenario } = loadScenario({ scenarioFile: options.scenarioFile });
  const seed = options.seed ?? scenario.seed ?? Math.floor(Math.random() * 2 ** 31);
  const min = Object.keys(scenario.bots).length;
  const start = options.start ?? playersOf(scenario);
  const max = options.max ?? Math.max(start * 64, 64);
  for (const [name, value] of [['--start', start], ['--max', max]] as const) {
    if (value < min) throw new InvalidInputError(`${name} ${value} is below one bot per group (${min} groups); use ${min} or more`);
  }
  if (max > 20_000) throw new InvalidInputError(`--max ${max} is above 20000 bots, the most one machine's fleet runs; lower it`);
  if (start > max) throw new InvalidInputError(`--start ${start} is above --max ${max}; lower --start or raise --max`);
  const dir = path.join(options.outDir, `capacity-${new Date().toISOString().replace(/[:.]/g, '-')}-${scenario.name}`);
  fs.mkdirSync(dir, { recursive: true });
  const print = options.print ?? (() => undefined);
  const search = await searchCapacity(
    async (players) => {
      const began = Date.now();
      if (options.signal?.aborted) return { players, verdict: 'error', sloFailures: [], safetyFailures: [], errors: ['interrupted'], actionsPerSecond: 0, runDir: dir, seconds: 0 };
      print(`capacity: running ${players} players…`);
      const summary = await runScenario({ scenarioInput: scaleBots(scenario, players), seed, outDir: dir, reporters: options.reporters ?? ['json', 'markdown'], signal: options.signal });
      const step = stepOf(players, summary, (Date.now() - began) / 1000);
      const p99 = step.actionP99Ms === undefined ? '' : `, action p99 ${step.actionP99Ms.toFixed(1)} ms`;
      print(`capacity: ${players} players → ${step.verdict}${p99}, ${step.actionsPerSecond.toFixed(0)} actions/s${step.sloFailures.length ? ` (${step.sloFailures.join('; ')})` : ''}`);
      return step;
    },
    {
      start,
      min,
      max,
      resolution: options.resolution,
      maxSteps: options.maxSteps ?? 12,
      require: options.require,
    },
  );
  const result: CapacityResult & { dir: string } = { scenario: scenario.name, seed, ...search, dir };
  fs.writeFileSync(path.join(dir, 'capacity.json'), JSON.stringify(result, null, 2));
  fs.writeFileSync(path.join(dir, 'capacity.md'), capacityMarkdown(result));
  return result;
}

export function capacityMarkdown(result: CapacityResult): string {
  const rows = result.steps.map((step) =>
    [
      step.players,
      step.verdict,
      step.actionP99Ms === undefined ? '–' : step.actionP99Ms.toFixed(1),
      step.actionsPerSecond.toFixed(0),
      [...step.safetyFailures, ...step.sloFailures, ...step.errors].join('<br>') || '–',
      path.basename(step.runDir),
    ].join(' | '),
  );
  return [
    `# Capacity: ${result.scenario} (seed ${result.seed})`,
    '',
    `**${result.summary}**`,
    '',
    '| players | verdict | action p99 (ms) | actions/s | what broke | run |',
    '| ---: | --- | ---: | ---: | --- | --- |',
    ...rows.map((row) => `| ${row} |`),
    '',
  ].join('\n');
}
