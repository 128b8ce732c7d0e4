/**
 * The `lagstorm` command line. Exit codes: 0 pass, 1 verdict failed, 2 harness or infrastructure
 * error, 3 invalid input.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ExitCode, HarnessError, InvalidInputError } from '../core/exit-codes';
import fs from 'node:fs';
import path from 'node:path';
import { buildDashboards } from '../dashboards/grafana';
import { REPORTER_NAMES, type ReporterName } from '../reports';
import { defaultRunsDir } from '../core/run-dir';
import { runCapacity } from '../core/capacity';
import { baselineRunSchema, DEFAULT_BASELINE_TOLERANCE, type BaselineRun } from '../verdict/baseline';
import { loadScenario, runScenario, type RunOptions } from '../core/runner';
import { formatSelfTestTable, runSelfTest } from '../core/selftest';
import type { RunParts } from '../core/parts';
import { defaultParts } from './composition-root';
import { cleanupDebris } from '../stack/state-file';
import { doctor, formatDoctor, setup } from '../stack/tools/provision';
import { containersReport } from '../stack/images/images';
import { scaffoldGame } from '../kit/scaffold';
import { explainCommand } from '../core/explain';
import { parseDuration } from '../core/duration';
import { segmentTuple, type SegmentTuple } from '../bots/fleet/segments';
import { historyFileOf, readHistoryBatches } from '../core/history-file';
import { runAgent } from '../agents/agent';
import { agentIndexFromEnv, AGENT_INDEX_ENV, AGENT_SETTING_FLAGS, type AgentEngineSettings } from '../agents/engine';
import { DEFAULT_AGENT_IMAGE } from '../agents/agent-spec';
import { kubernetesAgentsManifest } from '../agents/engines/agents-manifest';
import { AGENT_BASE_MEMORY_MIB, AGENT_MEMORY_PER_BOT_KB, DEFAULT_AGENT_CPU, DEFAULT_KUBERNETES_COORDINATOR_PORT, DEFAULT_NAMESPACE } from '../agents/engines/kubernetes-manifests';

function integer(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a non-negative integer, e.g. 42`);
    return Number(value);
  };
}

/**
 * The CLI's one signal handler: the first SIGINT/SIGTERM aborts the running command's signal (it
 * heals faults and tears down in order); a second one only says to wait. Exit 130/143 after it.
 */
class Interruption {
  private readonly controller = new AbortController();
  signalled: NodeJS.Signals | undefined;
  readonly signal = this.controller.signal;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.signalled) {
      console.error(`lagstorm: ${signal} again; still tearing down, please wait (\`lagstorm cleanup\` removes leftovers)`);
      return;
    }
    this.signalled = signal;
    console.error(`lagstorm: ${signal}: stopping bots, healing faults, tearing down the stack`);
    this.controller.abort();
  };

  install(): void {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  uninstall(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  get exitCode(): number | undefined {
    return this.signalled === undefined ? undefined : this.signalled === 'SIGINT' ? 130 : 143;
  }
}

export function buildProgram(interruption = new Interruption(), parts: RunParts = defaultParts): Command {
  const signal = interruption.signal;
  const runFromCli = async (options: RunOptions): Promise<number> => {
    const summary = await runScenario({ ...options, signal, log: process.env.LAGSTORM_DEBUG ? (line) => console.error(line) : undefined }, parts);
    return summary.exitCode;
  };
  const program = new Command('lagstorm')
    .description('Chaos-testing and load harness for live-game backends: bots, faults, Jepsen-style checkers and SLOs in one run.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('doctor')
    .description('List every external part (PostgreSQL, toxiproxy-server, Prometheus, nft, chromium, dockerd, k6) with version and status')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }) => {
      const statuses = await doctor();
      console.log(options.json ? JSON.stringify(statuses, null, 2) : `${formatDoctor(statuses)}\n\n${(await containersReport()).text}`);
      const missing = statuses.filter((s) => s.required && !s.present);
      if (missing.length) {
        console.error(`\nmissing: ${missing.map((s) => s.name).join(', ')}; run \`lagstorm setup\``);
        process.exitCode = ExitCode.harnessError;
      }
    });

  program
    .command('setup')
    .description('Install what is missing: Debian packages through apt (root), toxiproxy through go install into the tools cache (.tools/bin in this repo, ~/.cache/lagstorm/bin installed, $LAGSTORM_CACHE_DIR), with --containers the Docker engine and images; idempotent')
    .option('--all', 'also install optional parts (dockerd)')
    .option('--containers', "also ready the containers runtime: docker.io, a running dockerd (no bridge, no iptables), and lagstorm's images built locally (cached by content hash)")
    .option('--quiet', 'print only problems and one summary line')
    .action(async (options: { all?: boolean; containers?: boolean; quiet?: boolean }) => {
      const started = Date.now();
      const result = await setup({ all: options.all, containers: options.containers, log: (line) => console.log(`setup: ${line}`) });
      if (!options.quiet) console.log(formatDoctor(result.statuses));
      if (!options.quiet && result.images) console.log(`\n${result.images.map((r) => `${r.action.padEnd(6)}  ${r.image}  ${r.seconds.toFixed(1)}s`).join('\n')}`);
      if (!result.ok) {
        console.error(`\nsetup could not install everything. Do this, then run \`lagstorm setup\` again:\n${result.manual.map((m) => `  ${m}`).join('\n')}`);
        process.exitCode = ExitCode.harnessError;
        return;
      }
      console.log(`setup: ready in ${((Date.now() - started) / 1000).toFixed(1)}s${result.installed.length ? ` (installed ${result.installed.join(', ')})` : ' (nothing to install)'}`);
    });

  const runCommand = program
    .command('run')
    .description('Run a scenario: start the stack, drive bots through the faults, check, report. Exit 0 pass, 1 fail, 2 error, 3 invalid input')
    .argument('<scenario>', 'a *.scenario.ts or .json file')
    .option('--seed <n>', 'seed for bots and random faults (default: the scenario\'s, else random)', integer('--seed'))
    .option('--out <dir>', 'where runs/<id> goes', defaultRunsDir())
    .option('--runtime <name>', 'process (local processes) or containers', undefined)
    .option('--defect <name>', 'switch on a planted defect in the reference backend (overrides the scenario)')
    .option('--reporters <list>', `comma-separated subset of ${REPORTER_NAMES.join(',')}`)
    .option('--baseline <run>', 'a past run of the same scenario (runs/<id> or its summary.json): fail on a regression against it')
    .option('--max-regression <percent>', 'with --baseline: allowed worsening', integer('--max-regression'), Math.round(DEFAULT_BASELINE_TOLERANCE.maxRegression * 100))
    .option('--regression-floor <ms>', 'with --baseline: latency changes smaller than this are noise', integer('--regression-floor'), DEFAULT_BASELINE_TOLERANCE.floorMs)
    .option('--segment <from:to>', "run only this execution segment's bots, e.g. 1/4:1/2 (k6-style; the stack, faults and verdict stay whole)")
    .option('--segment-sequence <points>', 'with --segment: the cut points all agents share, e.g. 0,1/4,1/2,3/4,1 (default 0,from,to,1)')
    .option('--agents <n>', 'run the bots as N agents (agent i gets segment i/N of an even sequence), started by --engine; one merged history and verdict here', integer('--agents'))
    .option('--engine <name>', "with --agents: how the agents start: local (child processes of this machine), swarm (a Docker Swarm replicated job of the agent image) or kubernetes (an Indexed Job on kubectl's current context)")
    .option('--coordinator-listen <host>', 'with --agents: the address the coordinator listens on (default 127.0.0.1; kubernetes: --coordinator-address)');
  addAgentSettingOptions(runCommand, { target: '--agents-target' });
  runCommand.action(
      async (
        scenarioFile: string,
        options: { seed?: number; out: string; runtime?: string; defect?: string; reporters?: string; baseline?: string; maxRegression: number; regressionFloor: number; segment?: string; segmentSequence?: string; agents?: number; engine?: string; coordinatorListen?: string } & AgentSettingFlags,
        command: Command,
      ) => {
        const segment = segmentOption(options.segment, options.segmentSequence);
        const agents = agentsOption(options.agents, options.engine, agentSettings(options, options.agentsTarget));
        const stray = ['maxRegression', 'regressionFloor'].find((name) => command.getOptionValueSource(name) === 'cli');
        if (stray && !options.baseline) throw new InvalidInputError(`--${stray === 'maxRegression' ? 'max-regression' : 'regression-floor'} only applies with --baseline <run>; add one or drop it`);
        const baseline = options.baseline
          ? { run: loadBaselineRun(options.baseline), tolerance: { ...DEFAULT_BASELINE_TOLERANCE, maxRegression: options.maxRegression / 100, floorMs: options.regressionFloor } }
          : undefined;
        process.exitCode = await runFromCli({ scenarioFile, seed: options.seed, outDir: options.out, runtime: runtimeOption(options.runtime), defect: options.defect, reporters: reporterOption(options.reporters), baseline, segment, agents });
      },
    );

  const manifestCommand = program
    .command('agents')
    .description('Bot agents on a cluster')
    .command('manifest')
    .description("Print the Kubernetes objects `run --agents N --engine kubernetes` applies (ConfigMap, Service, EndpointSlice, Indexed Job), for review; the run renders its own, with its own run id, into runs/<id>/kubernetes-agents.yaml")
    .argument('<scenario>', 'a *.scenario.ts or .json file')
    .requiredOption('--agents <n>', 'how many agents (pods)', integer('--agents'))
    .option('--seed <n>', "the run's seed (default: the scenario's, else random)", integer('--seed'))
    .option('--out <file>', 'where the YAML goes; - for stdout', '-');
  addAgentSettingOptions(manifestCommand, { target: '--target' });
  manifestCommand.action((scenarioFile: string, options: { agents: number; seed?: number; out: string } & AgentSettingFlags) => {
    const manifest = kubernetesAgentsManifest({ scenarioFile, count: options.agents, seed: options.seed, settings: agentSettings(options, options.target) }, parts);
    const text = `# lagstorm agents manifest ${scenarioFile} --agents ${options.agents}: run id ${manifest.runId}\n${manifest.yaml}`;
    if (options.out === '-') {
      process.stdout.write(text);
      return;
    }
    fs.writeFileSync(options.out, text);
    console.log(`wrote ${options.out}: ${manifest.objects.map((object) => `${object.kind} ${object.metadata.name}`).join(', ')}`);
  });

  program
    .command('agent')
    .description("Run one segment of a scenario's bots for a coordinator (`run --agents N` starts these): its history streams to the coordinator, /metrics is served here. Exit 0 done, 2 coordinator lost or harness error, 3 invalid input")
    .argument('<scenario>', 'the scenario the coordinator runs (it passes its resolved agent-scenario.json)')
    .requiredOption('--coordinator <url>', 'the coordinator, e.g. http://127.0.0.1:<port> (local) or http://<service>.<namespace>.svc:<port> (kubernetes)')
    .requiredOption('--run-id <id>', 'the run this agent belongs to (the coordinator refuses others)')
    .requiredOption('--agents <n>', 'how many agents the run has', integer('--agents'))
    .option('--index <i>', `this agent's index, 0..n-1 (default: $${AGENT_INDEX_ENV.index}, $${AGENT_INDEX_ENV.kubernetes}, or Swarm's job slot $${AGENT_INDEX_ENV.swarmJobSlot})`, integer('--index'))
    .requiredOption('--target <url>', 'ws:// URL the bots connect to (the run\'s bots-backend proxy)')
    .option('--target-v6 <url>', 'ws://[::1] URL for IPv6 bot groups')
    .option('--seed <n>', "the run's seed (default: the scenario's)", integer('--seed'))
    .option('--metrics-ports <list>', 'comma-separated loopback ports, one per agent index, for /metrics (default: any free port)')
    .action(async (scenarioFile: string, options: { coordinator: string; runId: string; agents: number; index?: number; target: string; targetV6?: string; seed?: number; metricsPorts?: string }) => {
      let index = options.index;
      try {
        index ??= agentIndexFromEnv(process.env);
      } catch (error) {
        throw new InvalidInputError(`--index: ${(error as Error).message}`);
      }
      if (index === undefined) throw new InvalidInputError(`--index is missing: pass --index <i> or set ${AGENT_INDEX_ENV.index}`);
      if (options.agents < 1) throw new InvalidInputError('--agents must be at least 1');
      const coordinatorProblem = httpUrlProblem(options.coordinator);
      if (coordinatorProblem) throw new InvalidInputError(`--coordinator: "${options.coordinator}" ${coordinatorProblem}; write e.g. http://127.0.0.1:9100 or http://lagstorm-coordinator-x.default.svc:7380`);
      const ports = options.metricsPorts?.split(',').map((port) => port.trim());
      if (ports && (ports.length !== options.agents || ports.some((port) => !/^\d+$/.test(port)))) throw new InvalidInputError(`--metrics-ports: give ${options.agents} port numbers, one per agent, e.g. 9101,9102`);
      const outcome = await runAgent(
        { scenarioFile, coordinatorUrl: options.coordinator, runId: options.runId, index, count: options.agents, target: options.target, targetV6: options.targetV6, seed: options.seed, metricsPort: ports ? Number(ports[index]) : undefined, signal, log: (line) => console.log(line) },
        parts,
      );
      console.log(`agent ${index}: ${outcome.bots} bots, ${outcome.batches} batches, clock offset ${outcome.clock.offsetMs} ms ± ${outcome.clock.errorMs} ms`);
    });

  program
    .command('capacity')
    .description('Find the largest player count at which the scenario\'s SLOs hold: whole runs with the bot groups scaled, doubling then bisecting. Exit 0 found, 1 a safety check failed / none / below --require, 2 undecided')
    .argument('<scenario>', 'a *.scenario.ts or .json file')
    .option('--start <players>', 'players at the first step (default: the scenario\'s own)', integer('--start'))
    .option('--max <players>', 'never run more players than this (default 64 × start, at most 20000, or 20000 per agent with --agents)', integer('--max'))
    .option('--resolution <players>', 'stop when pass and fail are this close (default 5 % of the passing count)', integer('--resolution'))
    .option('--max-steps <n>', 'runs at most', integer('--max-steps'), 16)
    .option('--require <players>', 'exit 1 when the capacity found is below this (a CI gate)', integer('--require'))
    .option('--seed <n>', 'the same seed for every step', integer('--seed'))
    .option('--out <dir>', 'where capacity-<time>-<scenario>/ goes', defaultRunsDir())
    .option('--reporters <list>', `reporters of each step's run (default json,markdown); any of ${REPORTER_NAMES.join(',')}`)
    .option('--agents <n>', "run every step's bots as N agents, as `run --agents N` does", integer('--agents'))
    .option('--engine <name>', 'with --agents: how the agents start: local (child processes of this machine) or swarm (a Docker Swarm replicated job)')
    .action(async (scenarioFile: string, { agents: agentCount, engine, ...options }: { start?: number; max?: number; resolution?: number; maxSteps: number; require?: number; seed?: number; out: string; reporters?: string; agents?: number; engine?: string }) => {
      const reporters = reporterOption(options.reporters);
      const agents = agentsOption(agentCount, engine);
      if (options.resolution === 0) throw new InvalidInputError('--resolution must be at least 1 player');
      if (options.maxSteps === 0) throw new InvalidInputError('--max-steps must be at least 1');
      const result = await runCapacity({ scenarioFile, ...options, outDir: options.out, reporters, agents, signal, print: (line) => console.log(line) }, parts);
      console.log(`capacity: ${result.summary}`);
      console.log(`capacity: ${path.join(result.dir, 'capacity.md')}`);
      process.exitCode = result.exitCode;
    });

  program
    .command('replay')
    .description('Run a past run again: its resolved scenario.json with the same seed')
    .argument('<run>', 'a run folder (runs/<id>, runs/latest) or its scenario.json')
    .option('--out <dir>', 'where the new runs/<id> goes', defaultRunsDir())
    .action(async (run: string, options: { out: string }) => {
      const file = run.endsWith('.json') ? run : path.join(run, 'scenario.json');
      if (!fs.existsSync(file)) throw new InvalidInputError(`${file} not found: pass a run folder such as runs/latest`);
      const { source: _source, ...saved } = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      process.exitCode = await runFromCli({ scenarioInput: saved, seed: saved.seed as number, outDir: options.out });
    });

  program
    .command('explain')
    .description("Show each offending operation of a failed check with the evidence of every layer: the bot's operations around it, the backend's and PostgreSQL's log lines in its time window, the faults active then, and a Grafana link to that range")
    .argument('<run>', 'a run folder (runs/<id>), a run id, or latest')
    .option('--check <name>', 'only this failed check')
    .option('--op <n>', 'only the offending operation with this history index (the "history #N" of the check\'s message)', integer('--op'))
    .option('--window <duration>', 'log lines and faults this long before and after the operation', '5s')
    .option('--ops <n>', "the bot's operations shown before and after it", integer('--ops'), 5)
    .option('--runs <dir>', 'where run ids and latest are looked up', defaultRunsDir())
    .option('--grafana-url <url>', 'your Grafana, for the dashboard link (default $LAGSTORM_GRAFANA_URL, else http://127.0.0.1:3000)')
    .action(async (run: string, options: { check?: string; op?: number; window: string; ops: number; runs: string; grafanaUrl?: string }) => {
      let windowMs: number;
      try {
        windowMs = parseDuration(options.window);
      } catch (error) {
        throw new InvalidInputError(`--window: ${(error as Error).message}`);
      }
      if (options.grafanaUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(options.grafanaUrl)) throw new InvalidInputError(`--grafana-url: "${options.grafanaUrl}" is not an http(s) URL; write e.g. http://127.0.0.1:3000`);
      const { text } = await explainCommand(run, { runsDir: options.runs, check: options.check, op: options.op, windowMs, opsAround: options.ops, grafanaUrl: options.grafanaUrl });
      console.log(text);
    });

  program
    .command('validate')
    .description('Check a scenario file and print it resolved (durations in ms, defaults filled); starts nothing')
    .argument('<scenario>', 'a *.scenario.ts or .json file')
    .action((scenarioFile: string) => {
      const { scenario } = loadScenario({ scenarioFile }, parts);
      console.log(JSON.stringify(scenario, null, 2));
    });

  program
    .command('history')
    .description("Read a run's history")
    .command('cat')
    .description('Print the history as plain JSON lines, one entry each, whatever its encoding on disk (history.jsonl.gz, or an older run\'s history.jsonl)')
    .argument('<run>', 'a run folder (runs/<id>, runs/latest) or its history file')
    .action(async (run: string) => {
      let file: string;
      try {
        file = historyFileOf(run);
      } catch (error) {
        throw new InvalidInputError((error as Error).message);
      }
      await printHistory(file);
    });

  program
    .command('init')
    .description('Scaffold a starting point in your repo')
    .command('game')
    .description('Scaffold a game plug-in: a client on the WebSocket JSON helper, actions with effects, a profile, a final-state reader, a demo server and a first scenario; never overwrites')
    .argument('<name>', 'the game\'s kebab-case name, e.g. space-miners')
    .option('--dir <path>', 'where to write it (default: ./<name>)')
    .action((name: string, options: { dir?: string }) => {
      const result = scaffoldGame(name, options.dir ?? name);
      for (const file of result.files) console.log(`created ${path.relative(process.cwd(), file)}`);
      console.log(`\nnext: npx lagstorm run ${path.relative(process.cwd(), result.scenario)}\nthen replace the demo parts marked REPLACE with your own backend's (see README "Your own game")`);
    });

  program
    .command('cleanup')
    .description('Remove the debris of killed runs: processes, proxies, nft tables, mounts, loop devices, temp dirs')
    .option('--runs <dir>', 'the runs folder', defaultRunsDir())
    .option('--force', 'also clean runs whose lagstorm process still lives')
    .action(async (options: { runs: string; force?: boolean }) => {
      const report = await cleanupDebris(options.runs, { undoers: parts.debrisUndoers, force: options.force, log: (line) => console.log(line) });
      const actions = report.runs.flatMap((run) => run.actions);
      console.log(`cleanup: ${report.runs.length} run(s) inspected, ${actions.filter((a) => a.outcome === 'undone').length} item(s) removed, ${report.failed} failed`);
      if (report.failed) process.exitCode = ExitCode.harnessError;
    });

  program
    .command('dashboards')
    .description('Write the Grafana dashboard JSON (current schema) and a Prometheus scrape config for your own setup')
    .requiredOption('--out <dir>', 'output folder')
    .action((options: { out: string }) => {
      const { files } = buildDashboards(options.out);
      for (const file of files) console.log(file);
    });

  program
    .command('selftest')
    .description('Prove the checkers: each planted backend defect must be caught by its intended checker/SLO, and the correct backend must pass the same scenarios')
    .option('--json <file>', 'also write the table as JSON')
    .option('--seeds <list>', 'seeds for the correct-backend control runs', '1,2')
    .option('--only <defects>', 'comma-separated defects to test')
    .option('--out <dir>', 'where the runs go', path.join(defaultRunsDir(), 'selftest'))
    .option('--runtime <name>', 'process (local processes) or containers, for every run')
    .action(async (options: { json?: string; seeds: string; only?: string; out: string; runtime?: string }) => {
      const runtime = runtimeOption(options.runtime);
      const controlSeeds = options.seeds.split(',').map((seed) => seed.trim());
      const badSeed = controlSeeds.find((seed) => !/^\d+$/.test(seed));
      if (badSeed !== undefined) throw new InvalidInputError(`--seeds: "${badSeed}" is not a non-negative integer; write e.g. --seeds 1,2,3`);
      const only = options.only?.split(',').map((name) => name.trim());
      const defects = parts.games.names().flatMap((name) => (parts.games.load(parts.games.resolve(name, '.')).defects ?? []).map((defect) => defect.name));
      const unknown = (only ?? []).filter((name) => !defects.includes(name));
      if (unknown.length) throw new InvalidInputError(`--only: unknown defect ${unknown.join(', ')}; use any of ${defects.join(',')}`);
      const rows = await runSelfTest(
        { controlSeeds: controlSeeds.map(Number), outDir: options.out, only, runtime, signal, onRow: (row) => console.log(`selftest: ${row.runtime} ${row.game} ${row.defect} seed ${row.seed}: ${row.ok ? 'ok' : 'NOT OK'} (${row.verdict}, caught by ${row.caughtBy.join(', ')}, ${row.seconds}s)`) },
        parts,
      );
      console.log(`\n${formatSelfTestTable(rows)}`);
      if (options.json) fs.writeFileSync(options.json, JSON.stringify(rows, null, 2));
      const bad = rows.filter((row) => !row.ok);
      console.log(`\nselftest: ${rows.length - bad.length}/${rows.length} as expected`);
      // A run that errored says nothing about the checkers: that is exit 2, not a failed self-test.
      process.exitCode = bad.some((row) => row.verdict === 'error') ? ExitCode.harnessError : bad.length ? ExitCode.verdictFailed : ExitCode.pass;
    });

  return program;
}

/** The agent-setting flags of `run` and `agents manifest`, as commander parses them. */
interface AgentSettingFlags {
  coordinatorListen?: string;
  coordinatorPort?: number;
  coordinatorAddress?: string;
  agentsTarget?: string;
  target?: string;
  image?: string;
  namespace?: string;
  agentCpu?: string;
  agentMemory?: string;
  gameInImage?: boolean;
}

/** The flags a container engine reads, shared by `run` and `agents manifest` (which calls the agents' target `--target`). */
function addAgentSettingOptions(command: Command, flags: { target: string }): void {
  command
    .option('--coordinator-port <port>', `with --agents: the coordinator's port (default: any free port; kubernetes: ${DEFAULT_KUBERNETES_COORDINATOR_PORT})`, integer('--coordinator-port'))
    .option('--coordinator-address <ip>', "kubernetes: this machine's IP as the pods reach it (the coordinator Service's endpoint)")
    .option(`${flags.target} <url>`, "kubernetes: ws:// URL of the backend as the pods reach it (the agents' bots connect there, not through this machine's proxy)")
    .option('--image <name>', `swarm, kubernetes: the agent image (default ${DEFAULT_AGENT_IMAGE}); for a cluster, push it to a registry it pulls from`)
    .option('--namespace <ns>', `kubernetes: the namespace (default ${DEFAULT_NAMESPACE})`)
    .option('--agent-cpu <quantity>', `kubernetes: CPU request per agent pod (default ${DEFAULT_AGENT_CPU})`)
    .option('--agent-memory <quantity>', `kubernetes: memory request per agent pod (default ${AGENT_BASE_MEMORY_MIB}Mi + ${AGENT_MEMORY_PER_BOT_KB} KB per bot of the largest agent)`)
    .option('--game-in-image', 'kubernetes: --image holds the scenario\'s game (given by path) at its path on this machine, built FROM lagstorm/agent');
}

/** The settings given on the command line (absent flags stay absent, so each engine can refuse the ones it does not read). */
function agentSettings(flags: AgentSettingFlags, target: string | undefined): AgentEngineSettings {
  const settings: AgentEngineSettings = {
    coordinatorListen: flags.coordinatorListen,
    coordinatorPort: flags.coordinatorPort,
    coordinatorAddress: flags.coordinatorAddress,
    target,
    image: flags.image,
    namespace: flags.namespace,
    cpu: flags.agentCpu,
    memory: flags.agentMemory,
    gameInImage: flags.gameInImage,
  };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as AgentEngineSettings;
}

/** Why `text` is not an http(s) URL with a host, or undefined when it is one. */
function httpUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must start with http:// or https://, not ${url.protocol}//`;
  if (url.hostname === '') return 'names no host';
  if (url.pathname !== '/' || url.search || url.hash) return 'must be the coordinator\'s root, with no path';
  return undefined;
}

function runtimeOption(value: string | undefined): RunOptions['runtime'] {
  if (value === undefined) return undefined;
  if (value !== 'process' && value !== 'containers') throw new InvalidInputError(`--runtime must be "process" or "containers", not "${value}"`);
  return value;
}

/** A run folder or its summary.json, checked enough to compare against. */
function loadBaselineRun(where: string): BaselineRun {
  const file = where.endsWith('.json') ? where : path.join(where, 'summary.json');
  if (!fs.existsSync(file)) throw new InvalidInputError(`--baseline: ${file} not found; pass a finished run folder such as runs/<id> (it holds summary.json)`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InvalidInputError(`--baseline: ${file} is not JSON (${(error as Error).message}); pass a run's summary.json`);
  }
  const parsed = baselineRunSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new InvalidInputError(`--baseline: ${file} is not a lagstorm run summary to compare with (${problems}); pass a passing run's summary.json`);
  }
  return parsed.data as unknown as BaselineRun; // the schema checked the fields the comparison reads
}

/** Streams the history to stdout as JSON lines, in chunks, minding backpressure; a closed pipe (`| head`) ends it quietly. */
async function printHistory(file: string): Promise<void> {
  let closed = false;
  const onError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') closed = true;
  };
  process.stdout.on('error', onError);
  try {
    let chunk = '';
    for await (const batch of readHistoryBatches(file)) {
      if (closed) return;
      for (const entry of batch) chunk += JSON.stringify(entry) + '\n';
      if (chunk.length < 1 << 16) continue;
      if (!process.stdout.write(chunk)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve).once('error', () => resolve()));
      chunk = '';
    }
    if (chunk && !closed) await new Promise<void>((resolve) => process.stdout.write(chunk, () => resolve()));
  } catch (error) {
    throw new HarnessError((error as Error).message);
  } finally {
    process.stdout.off('error', onError);
  }
}

/** `--agents N [--engine name]` and the engine's flags → the run's agents (engine local by default); `--engine` or an engine flag without `--agents` is refused (exit 3). */
function agentsOption(count: number | undefined, engine: string | undefined, settings: AgentEngineSettings = {}): RunOptions['agents'] {
  const agentFlag = engine !== undefined ? '--engine' : (Object.keys(settings) as Array<keyof AgentEngineSettings>).map((key) => AGENT_SETTING_FLAGS[key])[0];
  if (agentFlag !== undefined && count === undefined) throw new InvalidInputError(`${agentFlag} only applies with --agents <n>; add one (e.g. --agents 4) or drop it`);
  return count !== undefined ? { count, engine: engine ?? 'local', ...(Object.keys(settings).length ? { settings } : {}) } : undefined;
}

/** `--segment` / `--segment-sequence` → the fleet's segment; bad input names the flag (exit 3). */
function segmentOption(segment: string | undefined, sequence: string | undefined): SegmentTuple | undefined {
  if (segment === undefined) {
    if (sequence !== undefined) throw new InvalidInputError('--segment-sequence only applies with --segment <from:to>; add one (e.g. --segment 0:1/4) or drop it');
    return undefined;
  }
  try {
    return segmentTuple(segment, sequence);
  } catch (error) {
    throw new InvalidInputError((error as Error).message);
  }
}

function reporterOption(value: string | undefined): ReporterName[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(REPORTER_NAMES as string[]).includes(name));
  if (unknown.length) throw new InvalidInputError(`--reporters: unknown ${unknown.join(', ')}; use any of ${REPORTER_NAMES.join(',')}`);
  return names as ReporterName[];
}

export async function main(argv: string[]): Promise<number> {
  const interruption = new Interruption();
  const program = buildProgram(interruption);
  interruption.install();
  try {
    await program.parseAsync(argv);
    return interruption.exitCode ?? (typeof process.exitCode === 'number' ? process.exitCode : ExitCode.pass);
  } catch (error) {
    if (interruption.exitCode !== undefined) {
      console.error(`lagstorm: ${error instanceof Error ? error.message : String(error)}`);
      return interruption.exitCode;
    }
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.pass;
      return ExitCode.invalidInput;
    }
    if (error instanceof InvalidInputError) {
      console.error(`lagstorm: ${error.message}`);
      return ExitCode.invalidInput;
    }
    const harness = error instanceof HarnessError ? error : undefined;
    console.error(`lagstorm: ${harness ? harness.message : (error as Error).stack ?? String(error)}`);
    return ExitCode.harnessError;
  } finally {
    interruption.uninstall();
  }
}

// bin/lagstorm.js calls main(); this is for `node bin/run-ts.js cli/main.ts ...`.
if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
