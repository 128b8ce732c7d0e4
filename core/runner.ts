/**
 * One run, start to verdict, as a list of tasks (core/task-runner.ts): stack → PostgreSQL exporter
 * → history → bots → nemesis → watchdog → play → final state → verdict. Whatever happens (a task
 * failing, SIGINT, the watchdog), the teardowns run in reverse: faults heal, bots stop, the history
 * closes, the stack stops. The verdict is decided after teardown: a run that leaves debris is not a pass.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HistoryRecorder, readHistoryAll, startFleet, type FleetResult, type SegmentTuple, type StartedFleet } from '../bots';
import type { FaultTarget } from '../chaos/fault';
import { judgeFaults } from '../chaos/efficacy';
import { startNemesis, planSchedule, type NemesisRun } from '../chaos/nemesis';
import { PANEL_CATALOGUE } from '../dashboards/catalogue';
import { fetchPanelSeries, snapshotPanels, type PanelSeries } from '../dashboards/prometheus-query';
import type { Reporter, ReporterMultiplexer } from '../reports/reporter';
import { tailFile } from '../stack/managed-process';
import { startPostgresExporter, type PostgresExporter } from '../stack/postgres-collector';
import { measureProxyBaseline } from '../stack/proxy-baseline';
import { freePort } from '../stack/ports';
import type { ContainerReadiness, RunStack, Runtime, RuntimeName, TargetRuntime } from '../stack/types';
import { analyzeHistory, decideVerdict, evaluateSlos, faultWindows, historyStats, runCheckers, withholdLivenessFailures } from '../verdict';
import { compareToBaseline, type BaselineRun, type BaselineTolerance } from '../verdict/baseline';
import { evaluateSeriesSlos, type PrometheusSlos, type QuerySamples } from '../verdict/series-slo';
import { formatDuration } from './duration';
import { ExitCode, HarnessError, InvalidInputError } from './exit-codes';
import { effectModel, gameFeatures, type GameDefinition } from './game';
import type { HistoryEntry, NemesisOp } from './history';
import { HISTORY_FILE } from './history-file';
import type { RunParts } from './parts';
import { createRunDir, defaultRunsDir, makeRunId } from './run-dir';
import { catalogFor } from './scenario/catalog';
import { loadScenarioInput } from './scenario/load';
import type { ResolvedScenario, Scenario } from './scenario/schema';
import { validateScenario } from './scenario/validate';
import type { FaultRecord, RunStats, RunSummary } from './summary';
import { epochNowMs } from './clock';
import { runTasks, type Task } from './task-runner';
import { explainRun, readRunLogs } from './explain';
import { Coordinator } from '../agents/coordinator';
import { defaultCoordinatorPlacement, type AgentEngine, type AgentEngineSettings, type LaunchedAgents } from '../agents/engine';
import { agentLaunchFor, agentScenarioJson, agentsOptionProblems } from './agent-launch';
import { evenSegment } from '../agents/protocol';
import type { Explanation } from './explain/types';

export interface RunOptions {
  /** A scenario file (.scenario.ts / .json) ... */
  scenarioFile?: string;
  /** ... or an already loaded scenario input (replay, selftest, capacity). */
  scenarioInput?: unknown;
  seed?: number;
  /** Where runs/<id> goes (default ./runs). */
  outDir?: string;
  runtime?: RuntimeName;
  /** Overrides scenario.backend.defect (selftest). */
  defect?: string;
  reporters?: string[];
  extraReporters?: Reporter[];
  /** Run only this execution segment's bots (`run --segment`); the stack, faults and verdict stay whole. */
  segment?: SegmentTuple;
  /** Run the bots as `count` agents started by an engine (`run --agents N --engine local`); the stack, faults and verdict stay here. */
  agents?: { count: number; engine: string; settings?: AgentEngineSettings };
  /** A past run of the same scenario to gate regressions against (`run --baseline`). */
  baseline?: { run: BaselineRun; tolerance?: BaselineTolerance };
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface LoadedScenario {
  /** Validated; `game` and `backend.entry` are absolute paths when the file gave relative ones. */
  scenario: Scenario;
  source: string;
  game: GameDefinition;
  /** Absolute path of the game's module (worker threads load it from there). */
  gameModule: string;
}

/** Loads the scenario and its game and validates one against the other; throws InvalidInputError (exit 3) listing every problem. Starts nothing. */
export function loadScenario(options: Pick<RunOptions, 'scenarioFile' | 'scenarioInput'>, parts: Pick<RunParts, 'games' | 'faults'>): LoadedScenario {
  const source = options.scenarioFile ?? 'scenario';
  const input = options.scenarioInput ?? (options.scenarioFile ? loadScenarioInput(options.scenarioFile) : undefined);
  if (input === undefined) throw new InvalidInputError('no scenario given: pass a scenario file, e.g. `lagstorm run scenarios/smoke.scenario.ts`');
  const baseDir = path.dirname(path.resolve(options.scenarioFile ?? 'scenario'));
  const raw = (typeof input === 'object' && input !== null ? input : {}) as { game?: unknown; backend?: { entry?: unknown } };
  const gameName = typeof raw.game === 'string' ? raw.game : 'reference';
  let gameModule: string;
  let game: GameDefinition;
  try {
    gameModule = parts.games.resolve(gameName, baseDir);
    game = parts.games.load(gameModule);
  } catch (error) {
    throw new InvalidInputError(`${source} is invalid:\n  game: ${(error as Error).message.replace(/^game: /, '')}`);
  }
  const validated = validateScenario(input, catalogFor(game, parts.faults), source);
  const isPath = !parts.games.names().includes(validated.game);
  const scenario: Scenario = {
    ...validated,
    // Absolute, so scenario.json replays (and capacity steps run) from anywhere.
    game: isPath ? gameModule : validated.game,
    backend: { ...validated.backend, ...(validated.backend.entry ? { entry: path.resolve(baseDir, validated.backend.entry) } : {}) },
  };
  return { scenario, source, game, gameModule };
}

/** What the schema cannot know: flags, files, privileges, the runtime. Checked before anything starts. */
function preflightProblems(loaded: LoadedScenario, options: RunOptions, parts: RunParts): string[] {
  const { scenario, game } = loaded;
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    const steps = [...scenario.faults.timeline, ...(scenario.faults.random?.mix ?? [])];
    for (const step of steps.filter((s) => parts.faults.get(s.fault).requiresRoot)) problems.push(`fault "${step.fault}" needs root (nftables, loop devices, cgroups); run as root or remove it`);
  }
  const defects = (game.defects ?? []).map((defect) => defect.name);
  if (options.defect !== undefined && options.defect !== 'none' && !defects.includes(options.defect)) {
    problems.push(`--defect "${options.defect}" is unknown for game "${game.name}"; use none${defects.length ? ` or one of: ${defects.join(', ')}` : ''}`);
  }
  if (scenario.backend.entry && !fs.existsSync(scenario.backend.entry)) {
    problems.push(`backend.entry: ${scenario.backend.entry} does not exist (paths are relative to the scenario file)`);
  }
  if (scenario.target) {
    const unused = [scenario.backend.entry !== undefined && 'backend.entry', scenario.backend.defect !== 'none' && 'backend.defect', options.defect !== undefined && options.defect !== 'none' && '--defect'].filter(Boolean);
    if (unused.length) problems.push(`${unused.join(', ')}: lagstorm does not start the backend of target.url (${scenario.target.url}); drop ${unused.length > 1 ? 'them' : 'it'} or drop target`);
    if (game.readFinalState && !scenario.target.adminUrl) problems.push(`target.adminUrl: game "${game.name}" reads the final state from the backend's admin URL; set target.adminUrl, e.g. "http://127.0.0.1:8081"`);
  } else if ((options.runtime ?? scenario.runtime) === 'containers') {
    // The containers runtime runs the backend from an image: a host entry point is of no use to it.
    if (!containerImageOf(scenario, game)) {
      problems.push(
        scenario.backend.entry
          ? `backend.entry (${scenario.backend.entry}) is a file on this host, which runtime "containers" cannot run; set backend.image to a local image of that backend, or use --runtime process`
          : `game "${game.name}" names no server.image for runtime "containers"; set backend.image to a local image of its backend, or use --runtime process`,
      );
    }
  } else if (!scenario.backend.entry && !game.server) problems.push(`game "${game.name}" brings no server to start; set backend.entry to your backend's entry point`);
  if (options.baseline && options.baseline.run.scenario !== scenario.name) {
    problems.push(`--baseline is a run of scenario "${options.baseline.run.scenario}", this is "${scenario.name}": compare runs of the same scenario`);
  }
  if (options.agents) {
    if (options.segment) problems.push('--segment and --agents exclude each other: the coordinator deals the segments to its agents; drop --segment');
    problems.push(...agentsOptionProblems(options.agents, loaded, parts));
  }
  try {
    problems.push(...parts.faults.capabilityProblems(scenario.faults, runtimeFor(parts.runtime(options.runtime ?? scenario.runtime), scenario.target)));
  } catch (error) {
    problems.push((error as Error).message);
  }
  return problems;
}

/** The backend image for the containers runtime: the scenario's, else the game's unless the scenario gave its own entry point (a host file). */
function containerImageOf(scenario: Scenario, game: GameDefinition): string | undefined {
  return scenario.backend.image ?? (scenario.backend.entry ? undefined : game.server?.image);
}

/** The scenario with the run's seed (the given one, the scenario's, else random), runtime and defect. */
export function resolveScenario(validated: Scenario, options: Pick<RunOptions, 'seed' | 'runtime' | 'defect'>): ResolvedScenario {
  return {
    ...validated,
    seed: options.seed ?? validated.seed ?? Math.floor(Math.random() * 2 ** 32),
    runtime: options.runtime ?? validated.runtime,
    backend: { ...validated.backend, defect: options.defect ?? validated.backend.defect },
  };
}

/** The runtime, or its variant in front of an already running backend (scenario `target`). */
function runtimeFor(runtime: Runtime, target: Scenario['target']): Runtime | TargetRuntime {
  if (!target) return runtime;
  if (!runtime.forTarget) throw new InvalidInputError(`target.url: runtime "${runtime.name}" cannot run against a backend it did not start; use runtime "process"`);
  return runtime.forTarget(target);
}

/** Time 0 lies this far after the agents are ready, so their worker threads are up when the first bots are due. */
const AGENT_START_LEAD_MS = 2500;
/** Every agent must be connected, clock-measured and planned within this long. */
const AGENT_READY_TIMEOUT_MS = 90_000;

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

/**
 * A part that dies while no fault is active (toxiproxy crashing, PostgreSQL killed from outside)
 * makes the run meaningless: report it with the part's log tail and stop the run (exit 2).
 */
function watchStack(stack: RunStack, faultActive: () => boolean, onDeath: (message: string) => void): NodeJS.Timeout {
  const parts = [stack.postgres, stack.toxiproxy, stack.backend, stack.prometheus].filter((part) => part !== undefined);
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
export function clientTiming(client: Scenario['client']): Record<string, number> {
  const timing: Record<string, number | undefined> = {
    pingIntervalMs: client.pingInterval,
    pongTimeoutMs: client.pongTimeout,
    connectTimeoutMs: client.connectTimeout,
    helloTimeoutMs: client.connectTimeout,
    actionTimeoutMs: client.actionTimeout,
    backoffBaseMs: client.reconnect?.backoffBase,
    backoffCapMs: client.reconnect?.backoffCap,
    maxReconnectAttempts: client.reconnect?.maxAttempts,
    maxInFlight: client.pipeline,
  };
  return Object.fromEntries(Object.entries(timing).filter(([, value]) => value !== undefined)) as Record<string, number>;
}

/** A scenario's readiness (timeout in ms) as the containers runtime takes it. */
function readinessOf(ready: Scenario['backend']['ready']): ContainerReadiness | undefined {
  if (!ready) return undefined;
  const { timeout, ...rest } = ready;
  return { ...rest, ...(timeout !== undefined ? { timeoutMs: timeout } : {}) };
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
    droppedArrivals: 0,
    loadGenerator: { cpuPeakRatio: 0, eventLoopLagP99Ms: 0, saturated: false },
  };
}

/** What the tasks share: each task fills in its part; teardowns read what exists. */
interface RunState {
  stack?: RunStack;
  exporter?: PostgresExporter;
  recorder?: HistoryRecorder;
  fleet?: StartedFleet;
  fleetResult?: FleetResult;
  nemesis?: NemesisRun;
  watchdog?: NodeJS.Timeout;
  progressTimer?: NodeJS.Timeout;
  runStartEpochMs?: number;
  timelineStartedAt?: string;
  proxyBaselineMs?: number;
  activeFaults: Set<string>;
  faults: FaultRecord[];
  final?: unknown;
  stats: RunStats;
  series?: PanelSeries[];
  verdictInput: Pick<RunSummary, 'checks' | 'slos'>;
  coordinator?: Coordinator;
  agents?: LaunchedAgents;
  /** Read for the verdict; kept for the evidence of failed checks, which needs the logs of a stopped stack. */
  history?: HistoryEntry[];
}

export async function runScenario(options: RunOptions, parts: RunParts): Promise<RunSummary> {
  const log = options.log ?? (() => undefined);
  const loaded = loadScenario(options, parts);
  const { scenario: validated, source, game, gameModule } = loaded;
  const problems = preflightProblems(loaded, options, parts);
  if (problems.length) throw new InvalidInputError(`${source} cannot run here:\n  ${problems.join('\n  ')}`);

  const agentEngine = options.agents ? parts.engine!(options.agents.engine, options.agents.settings) : undefined;
  await agentEngine?.checkReady?.(); // kubectl and its context, before anything starts

  const scenario = resolveScenario(validated, options);
  const seed = scenario.seed;
  const runsDir = path.resolve(options.outDir ?? defaultRunsDir());
  const runId = makeRunId(scenario.name, seed);
  const runDir = createRunDir(runsDir, runId);
  fs.writeFileSync(path.join(runDir, 'scenario.json'), JSON.stringify({ ...scenario, source }, null, 2));
  const reporters = parts.reporters({ only: options.reporters, extra: options.extraReporters });
  const startedAt = new Date();
  const errors: string[] = [];
  const state: RunState = { activeFaults: new Set(), faults: [], stats: emptyStats(), verdictInput: { checks: [], slos: [] } };
  // Aborted by the user (SIGINT/SIGTERM) or by the watchdog when a part of the stack dies.
  const internal = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, internal.signal]) : internal.signal;
  const ports = { fleet: await freePort(), exporter: await freePort(), agents: [] as number[] };
  // Agents elsewhere serve /metrics in their own network; only this machine's are scraped.
  if (agentEngine?.sameMachine) for (let i = 0; i < options.agents!.count; i++) ports.agents.push(await freePort());
  const historyPath = path.join(runDir, HISTORY_FILE);

  const tasks: Array<Task<RunState>> = [
    {
      title: 'stack',
      async setup(s) {
        s.stack = await runtimeFor(parts.runtime(scenario.runtime), scenario.target).start({
          runId,
          runDir,
          backend: {
            defect: scenario.backend.defect === 'none' ? undefined : scenario.backend.defect,
            env: scenario.backend.env,
            extraArgs: scenario.backend.args,
            entry: scenario.backend.entry ?? game.server?.entry,
            image: containerImageOf(scenario, game),
            command: scenario.backend.command,
            ready: readinessOf(scenario.backend.ready),
            services: scenario.backend.services?.map((service) => ({ ...service, ready: readinessOf(service.ready) })),
          },
          scrapeTargets: [
            { job: 'bots', target: `127.0.0.1:${ports.fleet}` },
            { job: 'postgres', target: `127.0.0.1:${ports.exporter}` },
            ...ports.agents.map((port) => ({ job: 'bots', target: `127.0.0.1:${port}` })),
          ],
          signal,
          log,
          debrisUndoers: parts.debrisUndoers,
        });
        fs.writeFileSync(path.join(runDir, 'stack.json'), JSON.stringify({ runtime: s.stack.runtime, endpoints: s.stack.endpoints, links: s.stack.links }, null, 2));
      },
      teardown: (s) => s.stack?.stop(),
    },
    {
      title: 'postgres exporter',
      async setup(s) {
        if (signal.aborted) throw new HarnessError('interrupted (SIGINT/SIGTERM) before the bots started');
        const stack = s.stack!;
        // A target (a backend lagstorm did not start) has no PostgreSQL of the run's own to export.
        if (stack.postgres) s.exporter = await startPostgresExporter({ superuserUrl: stack.postgres.superuserUrl, port: ports.exporter });
        // Prometheus 2.42 hands new targets to its scraper only every 5 s: wait, so the baseline phase has data.
        await stack.prometheus.waitForTargetsUp?.(stack.postgres ? ['backend', 'postgres'] : ['toxiproxy'], 20_000).catch((error: Error) => log(`prometheus: ${error.message}`));
        const direct = stack.backend?.wsUrl ?? scenario.target?.url;
        const baseline = direct?.startsWith('ws')
          ? await measureProxyBaseline(stack.endpoints.botsWsUrl, direct).catch((error: Error) => void log(`proxy baseline not measured: ${error.message}`))
          : undefined;
        if (baseline) s.proxyBaselineMs = baseline.addedMs;
      },
      teardown: (s) => s.exporter?.stop().catch((error: Error) => log(`exporter stop: ${error.message}`)),
    },
    ...(options.agents && agentEngine ? [agentsTask(options.agents.count, agentEngine, options.agents.settings ?? {})] : []),
    {
      title: 'history',
      setup(s) {
        if (signal.aborted) throw new HarnessError('interrupted (SIGINT/SIGTERM) before the bots started');
        s.runStartEpochMs = epochNowMs() + (s.coordinator ? AGENT_START_LEAD_MS : 0); // the clock the bots, recorder and nemesis read
        s.timelineStartedAt = new Date(s.runStartEpochMs).toISOString();
        const coordinator = s.coordinator;
        // The agents' shards arrive late: write only what every agent has sent up to.
        s.recorder = new HistoryRecorder(historyPath, { runStartEpochMs: s.runStartEpochMs, ...(coordinator ? { watermark: () => coordinator.watermark() } : {}) });
      },
      teardown: (s) => s.recorder?.close().catch((error: Error) => log(`history close: ${error.message}`)),
    },
    {
      title: 'bots',
      async setup(s) {
        if (s.coordinator) {
          s.fleet = await s.coordinator.start({ runStartEpochMs: s.runStartEpochMs!, recorder: s.recorder!, metricsPort: ports.fleet, signal });
          return;
        }
        s.fleet = await startFleet({
          scenario,
          gameModule,
          wsUrl: s.stack!.endpoints.botsWsUrl,
          wsUrlV6: s.stack!.endpoints.botsWsUrlV6,
          runStartEpochMs: s.runStartEpochMs!,
          recorder: s.recorder!,
          metricsPort: ports.fleet,
          segment: options.segment,
          timing: clientTiming(scenario.client),
          signal,
          log,
        });
      },
      async teardown(s) {
        await s.fleet?.stop().catch((error: Error) => log(`fleet stop: ${error.message}`));
      },
    },
    {
      title: 'nemesis',
      setup(s) {
        const recorder = s.recorder!;
        const fleet = s.fleet!;
        const target: FaultTarget = { sut: s.stack!.sut, log };
        s.nemesis = startNemesis({
          plan: planSchedule(scenario.faults, { seed, durationMs: scenario.duration, locksOf: (fault, params) => parts.faults.locksOf(fault, params) }),
          target,
          registry: parts.faults,
          metricsRegistry: fleet.metricsRegistry,
          runStartEpochMs: s.runStartEpochMs!,
          signal,
          log,
          append(entry: Omit<NemesisOp, 'index'>) {
            recorder.append(entry);
            const started = entry.f === 'fault-start';
            if (started) s.activeFaults.add(entry.value.id);
            else s.activeFaults.delete(entry.value.id);
            void reporters.onFault?.({ type: started ? 'start' : 'stop', id: entry.value.id, fault: entry.value.fault, atMs: entry.time });
          },
        });
      },
      async teardown(s) {
        if (!s.nemesis) return;
        await withDeadline(s.nemesis.done, 30_000, () => []).catch(() => undefined);
        await s.nemesis.healAll().catch((error: Error) => errors.push(`heal failed: ${error.message}`));
      },
    },
    {
      title: 'watchdog',
      setup(s) {
        const fleet = s.fleet!;
        s.watchdog = watchStack(s.stack!, () => s.activeFaults.size > 0, (message) => {
          errors.push(message);
          internal.abort();
        });
        s.progressTimer = setInterval(() => {
          void reporters.onProgress?.({ elapsedMs: Date.now() - s.runStartEpochMs!, ...fleet.progress(), activeFaults: [...s.activeFaults] });
        }, 1000);
      },
      teardown(s) {
        clearInterval(s.watchdog);
        clearInterval(s.progressTimer);
      },
    },
    {
      title: 'play',
      async setup(s) {
        const fleet = s.fleet!;
        const fleetDeadline = scenario.duration + scenario.recovery.window + FLEET_GRACE_MS;
        s.fleetResult = await withDeadline(fleet.done, fleetDeadline, () => {
          errors.push(`the bots had not finished ${formatDuration(FLEET_GRACE_MS)} after the planned end; stopped them`);
          return fleet.stop();
        });
        clearInterval(s.progressTimer);
        // A heal that never settles must not hold the run: the teardown heals again and reports it.
        s.faults = await withDeadline(s.nemesis!.done, 60_000, () => {
          errors.push('the faults had not settled 60 s after the bots finished; healing them in teardown');
          return [];
        });
        errors.push(...s.fleetResult.errors);
        const load = s.fleetResult.loadGenerator;
        if (load.saturated) {
          errors.push(
            `the load generator saturated (CPU peak ${(load.cpuPeakRatio * 100).toFixed(0)} %, event-loop lag p99 ${load.eventLoopLagP99Ms.toFixed(1)} ms): latencies are overstated, so the run is invalid; use fewer bots or a bigger machine`,
          );
        }
        for (const fault of s.faults) {
          if (fault.error) errors.push(`fault ${fault.id} (${fault.fault}): ${fault.error}`);
          if (!fault.healed) errors.push(`fault ${fault.id} (${fault.fault}) did not heal`);
        }
        if (options.signal?.aborted) errors.push('interrupted (SIGINT/SIGTERM) before the run finished');
      },
    },
    {
      title: 'final state',
      async setup(s) {
        if (signal.aborted || !game.readFinalState) return;
        const stack = s.stack!;
        const adminUrl = stack.endpoints.backendAdminUrl;
        if (adminUrl === undefined) {
          errors.push('final state not read: the backend has no admin URL (set target.adminUrl)');
          return;
        }
        // A backend lagstorm started may be coming back from a crash fault; a target was never touched.
        if (stack.backend && !(await waitReady(adminUrl, 30_000))) {
          errors.push('the backend was not ready within 30 s after the run, so the final state could not be read');
          return;
        }
        s.final = await game.readFinalState({ adminUrl, databaseUrl: stack.postgres?.superuserUrl }).catch((error: Error) => {
          errors.push(`final state unavailable: ${error.message}`);
          return undefined;
        });
      },
    },
    {
      title: 'verdict',
      async setup(s) {
        const stack = s.stack!;
        const fleetResult = s.fleetResult!;
        await s.recorder!.close();
        const history: HistoryEntry[] = await readHistoryAll(historyPath);
        s.history = history;
        const phases = faultWindows(history);
        s.faults = judgeFaults(s.faults, parts.faults, history); // did each fault bite: its measurements and what the bots saw
        const analysis = analyzeHistory(history, phases);
        const runEndAt = fleetResult.durationMs;
        s.stats = {
          ...historyStats(analysis, scenario.duration + scenario.recovery.window),
          droppedArrivals: fleetResult.dropped,
          loadGenerator: fleetResult.loadGenerator,
          ...(s.proxyBaselineMs !== undefined ? { proxyBaselineMs: s.proxyBaselineMs } : {}),
        };
        const checks = await runCheckers(
          scenario.checks,
          { history, final: s.final, effects: effectModel(game), limits: { reconnectWithinMs: scenario.recovery.reconnectWithin }, lastHealAt: phases.lastHealAt, runEndAt },
          { features: gameFeatures(game), checkers: game.checkers },
        );
        const invalidRun = signal.aborted ? 'the run was stopped early' : fleetResult.loadGenerator.saturated ? 'the load generator saturated' : undefined;
        const slos = [
          ...evaluateSlos(scenario.slos, history, phases, { analysis, runEndAt }),
          ...(scenario.slos.prometheus
            ? evaluateSeriesSlos(scenario.slos.prometheus, await queryPrometheusSlos(stack.endpoints.prometheusUrl, scenario.slos.prometheus, s.runStartEpochMs!), phases)
            : []),
        ];
        if (options.baseline) slos.push(...compareToBaseline({ runId, scenario: scenario.name, stats: s.stats, slos }, options.baseline.run, options.baseline.tolerance));
        s.series = await snapshotPanels(stack.endpoints.prometheusUrl, PANEL_CATALOGUE, { start: startedAt.getTime(), end: Date.now(), stepSeconds: 1 }, runDir);
        s.verdictInput = withholdLivenessFailures({ checks, slos }, invalidRun);
        if (s.stats.actions.ok === 0) errors.push('no action completed ok: nothing was tested (did the bots reach the backend?)');
      },
    },
  ];

  /** Starts the coordinator and the agents through the engine, and waits until every one is ready. */
  function agentsTask(count: number, engine: AgentEngine, settings: AgentEngineSettings): Task<RunState> {
    return {
      title: 'agents',
      async setup(s) {
        if (signal.aborted) throw new HarnessError('interrupted (SIGINT/SIGTERM) before the agents started');
        const scenarioFile = path.join(runDir, 'agent-scenario.json');
        fs.writeFileSync(scenarioFile, agentScenarioJson(scenario));
        const segments = Array.from({ length: count }, (_, i) => evenSegment(i, count).segment);
        const placement = engine.coordinatorPlacement?.(runId) ?? defaultCoordinatorPlacement(settings);
        try {
          s.coordinator = await Coordinator.start({ runId, count, segments, listen: { host: placement.host, port: placement.port }, onAgentFailure: () => internal.abort(), log });
        } catch (error) {
          throw new HarnessError(`the coordinator cannot listen on ${placement.host}:${placement.port || 'any port'} (${(error as Error).message}); pass another --coordinator-port, or a --coordinator-listen address of this machine`);
        }
        const endpoints = s.stack!.endpoints;
        s.agents = await engine.launch(
          agentLaunchFor(
            {
              loaded,
              scenario,
              runId,
              count,
              scenarioFile,
              coordinatorUrl: placement.urlForAgents(s.coordinator.port),
              // Agents elsewhere cannot reach the loopback proxy: they get the URL given for them (bypassing its faults).
              target: settings.target ?? endpoints.botsWsUrl,
              targetV6: settings.target ? undefined : endpoints.botsWsUrlV6,
              metricsPorts: ports.agents,
              runDir,
              debris: s.stack!.debris,
              log,
            },
            parts,
          ),
        );
        s.coordinator.describe((index) => s.agents!.describe(index));
        const coordinator = s.coordinator;
        s.agents.onExit((index, how) => coordinator.agentEnded(index, how));
        try {
          await coordinator.waitReady(engine.readyTimeoutMs ?? AGENT_READY_TIMEOUT_MS, signal);
        } catch (error) {
          throw new HarnessError((error as Error).message);
        }
        log(`agents: ${count} ready: ${coordinator.agents().map((agent) => `#${agent.index} ${agent.bots} bots, clock ${agent.clockOffsetMs} ± ${agent.clockErrorMs} ms`).join('; ')}`);
      },
      async teardown(s) {
        try {
          await s.agents?.stop(); // may fail (kubectl delete); the coordinator closes all the same
        } finally {
          await s.coordinator?.close();
        }
      },
    };
  }

  await reporters.onRunStart?.({ runId, scenario: scenario.name, seed, runDir, startedAt: startedAt.toISOString() });
  // The tasks watch `signal` themselves: after an abort the play ends early, and the verdict still
  // judges the safety checks on what happened (the liveness ones are withheld).
  const outcome = await runTasks(tasks, state, {
    beforeTeardown: () => internal.abort(), // no new faults, bots wind down
    log: (line) => log(line),
  });
  for (const failure of outcome.errors) {
    const error = failure.error;
    const message = error instanceof HarnessError ? error.message : ((error as Error)?.stack ?? String(error));
    errors.push(failure.phase === 'teardown' ? `${failure.task} teardown: ${(error as Error)?.message ?? String(error)}` : message);
  }
  return finish(reporters);

  async function finish(reporters: ReporterMultiplexer): Promise<RunSummary> {
    const decision = decideVerdict({ ...state.verdictInput, errors, faults: state.faults, ifNoEffect: scenario.faults.ifNoEffect });
    const finishedAt = new Date();
    const summary: RunSummary = {
      runId,
      scenario: scenario.name,
      game: game.name,
      seed,
      verdict: decision.verdict,
      exitCode: decision.exitCode,
      startedAt: startedAt.toISOString(),
      ...(state.timelineStartedAt ? { timelineStartedAt: state.timelineStartedAt } : {}),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      runDir,
      ...state.verdictInput,
      ...(state.coordinator ? { agents: state.coordinator.agents() } : {}),
      faults: state.faults,
      stats: state.stats,
      errors,
      ...(decision.warnings.length ? { warnings: decision.warnings } : {}),
      artifacts: { scenario: 'scenario.json', history: HISTORY_FILE, logs: 'logs/', stack: 'stack.json', panels: 'panels.json' },
    };
    const explanations = explainFailedChecks(summary);
    if (explanations) summary.explanations = explanations;
    state.history = undefined; // the reporters read the summary; let the history go
    await reporters.onRunEnd?.(summary, { runDir, series: state.series, historyPath });
    for (const failure of reporters.reporterErrors) process.stderr.write(`lagstorm: reporter ${failure.reporter} failed in ${failure.hook}: ${failure.message}\n`);
    return summary;
  }

  /** The evidence of every layer for each offending operation (after teardown: the service logs are complete). */
  function explainFailedChecks(summary: RunSummary): Explanation[] | undefined {
    if (!state.history || !summary.checks.some((check) => check.valid === false)) return undefined;
    try {
      return explainRun({ summary, history: state.history, logs: readRunLogs(runDir) }).explanations;
    } catch (error) {
      process.stderr.write(`lagstorm: the evidence of the failed checks could not be gathered (the verdict stands): ${(error as Error).message}\n`);
      return undefined;
    }
  }
}

export { ExitCode };
