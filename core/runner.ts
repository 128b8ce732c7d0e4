/**
 * One run, start to verdict: validate → stack → (bots ∥ nemesis) → heal → final snapshot →
 * checkers + SLOs → reporters. Teardown always runs (success, failure, exception, abort), and
 * every fault heals before the stack stops.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HistoryRecorder, readHistoryAll, startFleet, type StartedFleet } from '../bots';
import type { FaultTarget } from '../chaos/fault';
import { startNemesis, planSchedule, type NemesisRun } from '../chaos/nemesis';
import { defaultRegistry } from '../chaos/registry';
import { PANEL_CATALOGUE } from '../dashboards/catalogue';
import { fetchPanelSeries } from '../dashboards/prometheus-query';
import { createDefaultReporters, type ReporterName } from '../reports';
import type { Reporter } from '../reports/reporter';
import { defaultCatalog, REFERENCE_GAME_MODULE } from './catalog';
import { formatDuration } from './duration';
import { ExitCode, HarnessError, InvalidInputError } from './exit-codes';
import type { HistoryEntry, NemesisOp } from './history';
import { startPostgresExporter, type PostgresExporter } from '../stack/postgres-collector';
import { measureProxyBaseline } from '../stack/proxy-baseline';
import { createRunDir, defaultRunsDir, makeRunId } from './run-dir';
import { loadScenarioInput } from './scenario/load';
import type { ResolvedScenario, Scenario } from './scenario/schema';
import { validateScenario } from './scenario/validate';
import { tailFile } from '../stack/managed-process';
import { freePort } from '../stack/ports';
import { getRuntime } from '../stack/runtimes';
import type { RuntimeName, StartedStack } from '../stack/types';
import type { FaultRecord, RunStats, RunSummary } from './summary';
import { analyzeHistory, decideVerdict, evaluateSlos, faultWindows, historyStats, runCheckers, withholdLivenessFailures, type FinalSnapshot } from '../verdict';
import { compareToBaseline, type BaselineRun, type BaselineTolerance } from '../verdict/baseline';
import { evaluateSeriesSlos, type PrometheusSlos, type QuerySamples } from '../verdict/series-slo';

export interface RunOptions {
  /** A scenario file (.scenario.ts / .json) ... */
  scenarioFile?: string;
  /** ... or an already loaded scenario input (replay, selftest). */
  scenarioInput?: unknown;
  seed?: number;
  /** Where runs/<id> goes (default ./runs). */
  outDir?: string;
  runtime?: RuntimeName;
  /** Overrides scenario.backend.defect (selftest). */
  defect?: string;
  reporters?: ReporterName[];
  extraReporters?: Reporter[];
  /** A past run of the same scenario to gate regressions against (`run --baseline`). */
  baseline?: { run: BaselineRun; tolerance?: BaselineTolerance };
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface LoadedScenario {
  scenario: Scenario;
  source: string;
}

/** Loads and validates; throws InvalidInputError (exit 3) listing every problem. Starts nothing. */
export function loadScenario(options: Pick<RunOptions, 'scenarioFile' | 'scenarioInput'>): LoadedScenario {
  const source = options.scenarioFile ?? 'scenario';
  const input = options.scenarioInput ?? (options.scenarioFile ? loadScenarioInput(options.scenarioFile) : undefined);
  if (input === undefined) throw new InvalidInputError('no scenario given: pass a scenario file, e.g. `lagstorm run scenarios/smoke.scenario.ts`');
  return { scenario: validateScenario(input, defaultCatalog, source), source };
}

/** What the schema cannot know: flags, files, privileges. Checked before anything starts. */
function preflightProblems(scenario: Scenario, options: RunOptions): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    const steps = [...scenario.faults.timeline, ...(scenario.faults.random?.mix ?? [])];
    for (const step of steps.filter((s) => defaultRegistry.get(s.fault).requiresRoot)) problems.push(`fault "${step.fault}" needs root (nftables, loop devices, cgroups); run as root or remove it`);
  }
  if (options.defect !== undefined && options.defect !== 'none' && !defaultCatalog.defects.includes(options.defect)) {
    problems.push(`--defect "${options.defect}" is unknown; use none or one of: ${defaultCatalog.defects.join(', ')}`);
  }
  if (scenario.backend.entry && !fs.existsSync(path.resolve(path.dirname(options.scenarioFile ?? '.'), scenario.backend.entry))) {
    problems.push(`backend.entry: ${scenario.backend.entry} does not exist (paths are relative to the scenario file)`);
  }
  if (options.baseline && options.baseline.run.scenario !== scenario.name) {
    problems.push(`--baseline is a run of scenario "${options.baseline.run.scenario}", this is "${scenario.name}": compare runs of the same scenario`);
  }
  if ((options.runtime ?? scenario.runtime) === 'containers') problems.push('runtime "containers" is not available yet; use "process"');
  return problems;
}

/** Time for the fleet to wind down after its planned end before it is stopped. */
const FLEET_GRACE_MS = 60_000;

/** Resolves with `work`, or with `onTimeout()` after `ms`; the timer never outlives the race (it would keep the CLI alive). */
async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => T | Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => Promise.resolve().then(onTimeout).then(resolve, reject), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitReady(adminUrl: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${adminUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return true;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  return false;
}

async function readFinalSnapshot(adminUrl: string): Promise<FinalSnapshot> {
  const response = await fetch(`${adminUrl}/admin/snapshot`, { signal: AbortSignal.timeout(60_000) });
  if (!response.ok) throw new Error(`GET /admin/snapshot answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  return (await response.json()) as FinalSnapshot;
}

/**
 * A part that dies while no fault is active (toxiproxy crashing, PostgreSQL killed from outside)
 * makes the run meaningless: report it with the part's log tail and stop the run (exit 2).
 */
function watchStack(stack: StartedStack, faultActive: () => boolean, onDeath: (message: string) => void): NodeJS.Timeout {
  const parts = [stack.postgres, stack.toxiproxy, stack.backend, stack.prometheus];
  const timer = setInterval(() => {
    if (faultActive()) return; // process faults stop parts on purpose; heal restarts them
    const dead = parts.find((part) => !part.isRunning());
    if (!dead) return;
    clearInterval(timer);
    onDeath(`${dead.name} died during the run without a fault (see ${dead.logFile}):\n${tailFile(dead.logFile, 10)}`);
  }, 500);
  return timer;
}

/** Samples of each Prometheus SLO query over the run, every second, times relative to the run start. */
async function queryPrometheusSlos(prometheusUrl: string, slos: PrometheusSlos, runStartEpochMs: number): Promise<Record<string, QuerySamples>> {
  const panels = Object.entries(slos).map(([name, spec]) => ({ id: name, title: name, row: 'Backend internals' as const, expr: spec.query, unit: 'short' as const }));
  const series = await fetchPanelSeries(prometheusUrl, panels, { start: runStartEpochMs, end: Date.now(), stepSeconds: 1 });
  return Object.fromEntries(
    series.map((panel): [string, QuerySamples] => [
      panel.panelId,
      panel.error ? { error: panel.error } : { samples: panel.lines.flatMap((line) => line.points.map(([epochMs, value]) => ({ at: epochMs - runStartEpochMs, value }))) },
    ]),
  );
}

/** Scenario `client` fields → the bot session's timing (only what the scenario sets). */
function clientTiming(client: Scenario['client']): Record<string, number> {
  const timing: Record<string, number | undefined> = {
    pingIntervalMs: client.pingInterval,
    pongTimeoutMs: client.pongTimeout,
    connectTimeoutMs: client.connectTimeout,
    helloTimeoutMs: client.connectTimeout,
    actionTimeoutMs: client.actionTimeout,
    backoffBaseMs: client.reconnect?.backoffBase,
    backoffCapMs: client.reconnect?.backoffCap,
    maxReconnectAttempts: client.reconnect?.maxAttempts,
  };
  return Object.fromEntries(Object.entries(timing).filter(([, value]) => value !== undefined)) as Record<string, number>;
}

function emptyStats(): RunStats {
  return {
    bots: 0,
    actions: { invoked: 0, ok: 0, fail: 0, info: 0 },
    actionsPerSecond: 0,
    latency: {},
    latencyByPhase: {},
    reconnects: 0,
    desyncs: 0,
    gaveUp: 0,
    loadGenerator: { cpuPeakRatio: 0, eventLoopLagP99Ms: 0, saturated: false },
  };
}

export async function runScenario(options: RunOptions): Promise<RunSummary> {
  const log = options.log ?? (() => undefined);
  const { scenario: validated, source } = loadScenario(options);
  const problems = preflightProblems(validated, options);
  if (problems.length) throw new InvalidInputError(`${source} cannot run here:\n  ${problems.join('\n  ')}`);

  const seed = options.seed ?? validated.seed ?? Math.floor(Math.random() * 2 ** 32);
  const scenario: ResolvedScenario = {
    ...validated,
    seed,
    runtime: options.runtime ?? validated.runtime,
    backend: {
      ...validated.backend,
      defect: options.defect ?? validated.backend.defect,
      // Relative to the scenario file, made absolute so scenario.json replays from anywhere.
      ...(validated.backend.entry ? { entry: path.resolve(path.dirname(options.scenarioFile ?? '.'), validated.backend.entry) } : {}),
    },
  };
  const runsDir = path.resolve(options.outDir ?? defaultRunsDir());
  const runId = makeRunId(scenario.name, seed);
  const runDir = createRunDir(runsDir, runId);
  fs.writeFileSync(path.join(runDir, 'scenario.json'), JSON.stringify({ ...scenario, source }, null, 2));
  const reporters = createDefaultReporters({ only: options.reporters, extra: options.extraReporters });
  const startedAt = new Date();
  const errors: string[] = [];
  let stack: StartedStack | undefined;
  let exporter: PostgresExporter | undefined;
  let fleet: StartedFleet | undefined;
  let nemesis: NemesisRun | undefined;
  let recorder: HistoryRecorder | undefined;
  let faults: FaultRecord[] = [];
  let stats = emptyStats();
  let final: FinalSnapshot | undefined;
  let history: HistoryEntry[] = [];
  let progressTimer: NodeJS.Timeout | undefined;
  let series: Awaited<ReturnType<typeof fetchPanelSeries>> | undefined;
  // Aborted by the user (SIGINT/SIGTERM) or by the watchdog when a part of the stack dies.
  const internal = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, internal.signal]) : internal.signal;
  const interrupted = () => signal.aborted;
  let watchdog: NodeJS.Timeout | undefined;

  let verdictInput: Pick<RunSummary, 'checks' | 'slos'> = { checks: [], slos: [] };
  let timelineStartedAt: string | undefined;
  await reporters.onRunStart?.({ runId, scenario: scenario.name, seed, runDir, startedAt: startedAt.toISOString() });
  try {
    const fleetPort = await freePort();
    const exporterPort = await freePort();
    stack = await getRuntime(scenario.runtime).start({
      runId,
      runDir,
      backend: {
        defect: scenario.backend.defect === 'none' ? undefined : scenario.backend.defect,
        env: scenario.backend.env,
        extraArgs: scenario.backend.args,
        entry: scenario.backend.entry,
      },
      scrapeTargets: [
        { job: 'bots', target: `127.0.0.1:${fleetPort}` },
        { job: 'postgres', target: `127.0.0.1:${exporterPort}` },
      ],
      signal,
      log,
    });
    fs.writeFileSync(path.join(runDir, 'stack.json'), JSON.stringify({ runtime: stack.runtime, endpoints: stack.endpoints, links: stack.links }, null, 2));
    exporter = await startPostgresExporter({ superuserUrl: stack.postgres.superuserUrl, port: exporterPort });
    // Prometheus 2.42 hands new targets to its scraper only every 5 s: wait, so the baseline phase has data.
    await stack.prometheus.waitForTargetsUp?.(['backend', 'postgres'], 20_000).catch((error: Error) => log(`prometheus: ${error.message}`));
    const baseline = await measureProxyBaseline(stack.endpoints.botsWsUrl, stack.backend.wsUrl).catch((error: Error) => {
      log(`proxy baseline not measured: ${error.message}`);
      return undefined;
    });

    const runStartEpochMs = Date.now();
    timelineStartedAt = new Date(runStartEpochMs).toISOString();
    recorder = new HistoryRecorder(path.join(runDir, 'history.jsonl'), { runStartEpochMs });
    const activeRecorder = recorder;
    fleet = await startFleet({
      scenario,
      gameModule: REFERENCE_GAME_MODULE,
      wsUrl: stack.endpoints.botsWsUrl,
      wsUrlV6: stack.endpoints.botsWsUrlV6,
      runStartEpochMs,
      recorder,
      metricsPort: fleetPort,
      timing: clientTiming(scenario.client),
      signal,
      log,
    });
    const activeFleet = fleet;
    const activeFaults = new Set<string>();
    const target: FaultTarget = { stack, log };
    nemesis = startNemesis({
      plan: planSchedule(scenario.faults, { seed, durationMs: scenario.duration, locksOf: (fault, params) => defaultRegistry.locksOf(fault, params) }),
      target,
      registry: defaultRegistry,
      runStartEpochMs,
      signal,
      log,
      append(entry: Omit<NemesisOp, 'index'>) {
        activeRecorder.append(entry);
        const started = entry.f === 'fault-start';
        if (started) activeFaults.add(entry.value.id);
        else activeFaults.delete(entry.value.id);
        activeFleet.setFaultActive(entry.value.fault, started);
        void reporters.onFault?.({ type: started ? 'start' : 'stop', id: entry.value.id, fault: entry.value.fault, atMs: entry.time });
      },
    });
    watchdog = watchStack(stack, () => activeFaults.size > 0, (message) => {
      errors.push(message);
      internal.abort();
    });
    progressTimer = setInterval(() => {
      const progress = activeFleet.progress();
      void reporters.onProgress?.({ elapsedMs: Date.now() - runStartEpochMs, ...progress, activeFaults: [...activeFaults] });
    }, 1000);

    const fleetDeadline = scenario.duration + scenario.recovery.window + FLEET_GRACE_MS;
    const fleetResult = await withDeadline(fleet.done, fleetDeadline, () => {
      errors.push(`the bots had not finished ${formatDuration(FLEET_GRACE_MS)} after the planned end; stopped them`);
      return activeFleet.stop();
    });
    clearInterval(progressTimer);
    faults = await nemesis.done;
    errors.push(...fleetResult.errors);
    if (fleetResult.loadGenerator.saturated) {
      errors.push(
        `the load generator saturated (CPU peak ${(fleetResult.loadGenerator.cpuPeakRatio * 100).toFixed(0)} %, event-loop lag p99 ${fleetResult.loadGenerator.eventLoopLagP99Ms.toFixed(1)} ms): latencies are overstated, so the run is invalid; use fewer bots or a bigger machine`,
      );
    }
    for (const fault of faults) {
      if (fault.error) errors.push(`fault ${fault.id} (${fault.fault}): ${fault.error}`);
      if (!fault.healed) errors.push(`fault ${fault.id} (${fault.fault}) did not heal`);
    }
    if (options.signal?.aborted) errors.push('interrupted (SIGINT/SIGTERM) before the run finished');

    if (!interrupted()) {
      if (await waitReady(stack.backend.adminUrl, 30_000)) {
        final = await readFinalSnapshot(stack.backend.adminUrl).catch((error: Error) => {
          errors.push(`final snapshot unavailable: ${error.message}`);
          return undefined;
        });
      } else {
        errors.push('the backend was not ready within 30 s after the run, so the final state could not be read');
      }
    }
    await recorder.close();
    recorder = undefined;
    history = await readHistoryAll(path.join(runDir, 'history.jsonl'));
    const phases = faultWindows(history);
    const analysis = analyzeHistory(history, phases);
    const runEndAt = fleetResult.durationMs;
    stats = {
      ...historyStats(analysis, scenario.duration + scenario.recovery.window),
      loadGenerator: fleetResult.loadGenerator,
      ...(baseline ? { proxyBaselineMs: baseline.addedMs } : {}),
    };
    const checks = await runCheckers(scenario.checks, {
      history,
      final,
      limits: { reconnectWithinMs: scenario.recovery.reconnectWithin },
      lastHealAt: phases.lastHealAt,
      runEndAt,
    });
    const invalidRun = interrupted() ? 'the run was stopped early' : fleetResult.loadGenerator.saturated ? 'the load generator saturated' : undefined;
    const slos = [
      ...evaluateSlos(scenario.slos, history, phases, { analysis, runEndAt }),
      ...(scenario.slos.prometheus
        ? evaluateSeriesSlos(scenario.slos.prometheus, await queryPrometheusSlos(stack.endpoints.prometheusUrl, scenario.slos.prometheus, runStartEpochMs), phases)
        : []),
    ];
    if (options.baseline) slos.push(...compareToBaseline({ runId, scenario: scenario.name, stats, slos }, options.baseline.run, options.baseline.tolerance));
    series = await fetchPanelSeries(stack.endpoints.prometheusUrl, PANEL_CATALOGUE, { start: startedAt.getTime(), end: Date.now(), stepSeconds: 1 }).catch(() => undefined);
    // What each catalogue panel's PromQL returned from this run's live Prometheus.
    fs.writeFileSync(
      path.join(runDir, 'panels.json'),
      JSON.stringify((series ?? []).map((panel) => ({ id: panel.panelId, expr: panel.expr, series: panel.lines.length, points: panel.lines.reduce((n, line) => n + line.points.length, 0), error: panel.error })), null, 2),
    );
    verdictInput = withholdLivenessFailures({ checks, slos }, invalidRun);
    if (stats.actions.ok === 0) errors.push('no action completed ok: nothing was tested (did the bots reach the backend?)');
  } catch (error) {
    errors.push(error instanceof HarnessError ? error.message : ((error as Error).stack ?? String(error)));
  }
  // Teardown always runs, and before the verdict: a run that leaves debris is not a pass.
  clearInterval(progressTimer);
  clearInterval(watchdog);
  internal.abort(); // no new faults, bots wind down
  if (nemesis) await withDeadline(nemesis.done, 30_000, () => []).catch(() => undefined);
  await nemesis?.healAll().catch((error: Error) => errors.push(`heal failed: ${error.message}`));
  await fleet?.stop().catch((error: Error) => log(`fleet stop: ${error.message}`));
  await recorder?.close().catch(() => undefined);
  await exporter?.stop().catch(() => undefined);
  await stack?.stop().catch((error: Error) => errors.push(`stack ${error.message}`));
  return finish(verdictInput);

  async function finish(verdictInput: Pick<RunSummary, 'checks' | 'slos'>): Promise<RunSummary> {
    const decision = decideVerdict({ ...verdictInput, errors });
    const finishedAt = new Date();
    const summary: RunSummary = {
      runId,
      scenario: scenario.name,
      seed,
      verdict: decision.verdict,
      exitCode: decision.exitCode,
      startedAt: startedAt.toISOString(),
      ...(timelineStartedAt ? { timelineStartedAt } : {}),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      runDir,
      ...verdictInput,
      faults,
      stats,
      errors,
      artifacts: { scenario: 'scenario.json', history: 'history.jsonl', logs: 'logs/', stack: 'stack.json', panels: 'panels.json' },
    };
    await reporters.onRunEnd?.(summary, { runDir, series, historyPath: path.join(runDir, 'history.jsonl') });
    for (const failure of reporters.reporterErrors) process.stderr.write(`lagstorm: reporter ${failure.reporter} failed in ${failure.hook}: ${failure.message}\n`);
    return summary;
  }
}

export { ExitCode };
