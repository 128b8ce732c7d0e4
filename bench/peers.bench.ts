/**
 * The fleet against the load generators a studio would pick instead, on one workload and one
 * ruler: every virtual user holds one WebSocket to a loopback echo-ack server (in its own
 * process), sends one action every 2 s and waits for its ack. Per tool and level:
 *  - RSS summed over the tool's processes (median of samples over the steady window),
 *  - KB per VU against the same tool at one VU, and the slope between the two top levels,
 *  - CPU µs per action: the tool's CPU over the steady window / actions the server counted.
 *
 *   npm run bench:peers        (env PEER_TOOLS=lagstorm,artillery,locust,gatling
 *                               PEER_LEVELS=500,2000,5000 PEER_STEADY_S=60 PEER_RUNS=2
 *                               PEER_DEADLINE_MIN=90 LAGSTORM_PEERS_DIR=~/.cache/lagstorm/peers)
 *
 * The peers are installed on demand into LAGSTORM_PEERS_DIR, outside the repo: npm
 * artillery@2.0.21 (the newest that runs on Node 20), PyPI locust 2.47 + websocket-client in a
 * venv, Gatling 3.15.0 from Maven Central (mvn resolves it, javac compiles the simulation).
 * Results: bench/results/peers.json.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEchoServer, type EchoServer } from './peers/echo-server-process';

const REPO = path.resolve(__dirname, '..');
const PEERS = path.join(__dirname, 'peers');
const OUT = path.join(REPO, 'bench', 'results', 'peers.json');
const HOME = process.env.LAGSTORM_PEERS_DIR ?? path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'lagstorm', 'peers');
const TOOLS = (process.env.PEER_TOOLS ?? 'lagstorm,artillery,locust,gatling').split(',') as ToolName[];
const LEVELS = (process.env.PEER_LEVELS ?? '500,2000,5000').split(',').map(Number);
const STEADY_S = Number(process.env.PEER_STEADY_S ?? 60);
const RUNS = Number(process.env.PEER_RUNS ?? 2);
const DEADLINE = Date.now() + Number(process.env.PEER_DEADLINE_MIN ?? 90) * 60_000;
const THINK_S = 2;
const CLOCK_TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

type ToolName = 'lagstorm' | 'artillery' | 'locust' | 'gatling';

interface Measurement {
  vus: number;
  connected: number;
  rssMb: number;
  cpuMicrosPerAction: number;
  actionsPerSecond: number;
  cpuRatio: number;
}

interface Launch {
  url: string;
  vus: number;
  rampS: number;
  /** How long each VU keeps acting (the tool is stopped after the window anyway). */
  totalS: number;
  scratch: string;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

// ---------- installing the peers (idempotent, outside the repo) ----------

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  execFileSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'], cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: 10 * 60_000 });
}

function install(tool: ToolName): void {
  const dir = path.join(HOME, tool);
  fs.mkdirSync(dir, { recursive: true });
  if (tool === 'artillery' && !fs.existsSync(path.join(dir, 'node_modules', '.bin', 'artillery'))) {
    log('installing artillery@2.0.21');
    fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"lagstorm-peer-artillery","private":true}\n');
    run('npm', ['install', '--no-audit', '--no-fund', 'artillery@2.0.21'], { cwd: dir, env: { PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' } });
  }
  if (tool === 'locust' && !fs.existsSync(path.join(dir, 'venv', 'bin', 'locust'))) {
    log('installing locust 2.47 + websocket-client');
    run('python3', ['-m', 'venv', path.join(dir, 'venv')]);
    run(path.join(dir, 'venv', 'bin', 'pip'), ['install', '--quiet', 'locust==2.47.*', 'websocket-client']);
  }
  if (tool === 'gatling') {
    const classes = path.join(dir, 'classes');
    if (!fs.existsSync(path.join(dir, 'cp.txt'))) {
      log('resolving gatling 3.15.0 from Maven Central');
      fs.writeFileSync(
        path.join(dir, 'pom.xml'),
        `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>lagstorm.peers</groupId><artifactId>gatling-peer</artifactId><version>1</version>
<dependencies><dependency><groupId>io.gatling.highcharts</groupId><artifactId>gatling-charts-highcharts</artifactId><version>3.15.0</version></dependency></dependencies></project>\n`,
      );
      run('mvn', ['-q', 'dependency:build-classpath', '-Dmdep.outputFile=cp.txt'], { cwd: dir });
    }
    const source = path.join(PEERS, 'EchoSimulation.java');
    const compiled = path.join(classes, 'EchoSimulation.class');
    if (!fs.existsSync(compiled) || fs.statSync(compiled).mtimeMs < fs.statSync(source).mtimeMs) {
      fs.mkdirSync(classes, { recursive: true });
      run('javac', ['-d', classes, '-cp', fs.readFileSync(path.join(dir, 'cp.txt'), 'utf8').trim(), source]);
    }
  }
}

// ---------- starting each tool ----------

function launch(tool: ToolName, options: Launch): ChildProcess {
  const { url, vus, rampS, totalS, scratch } = options;
  const spawnTool = (command: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawn(command, args, { cwd: scratch, detached: true, stdio: ['ignore', 'ignore', fs.openSync(path.join(scratch, `${tool}.log`), 'a')], env: { ...process.env, ...env } });
  switch (tool) {
    case 'lagstorm':
      return spawnTool(process.execPath, [path.join(REPO, 'bin', 'run-ts.js'), '--lean-heap', path.join(PEERS, 'lagstorm-fleet.ts'), url, String(vus), String(rampS * 1000), String(totalS * 1000), path.join(scratch, 'history.jsonl')]);
    case 'artillery': {
      const script = path.join(scratch, 'artillery.json');
      const flow = [{ loop: [{ send: { payload: { id: 1, op: 'ping' }, match: { json: '$.ok', value: true } } }, { think: THINK_S }], count: Math.ceil(totalS / THINK_S) }];
      fs.writeFileSync(script, JSON.stringify({ config: { target: url, phases: [{ duration: rampS, arrivalCount: vus }] }, scenarios: [{ engine: 'ws', flow }] }));
      return spawnTool(path.join(HOME, 'artillery', 'node_modules', '.bin', 'artillery'), ['run', '--quiet', script], { ARTILLERY_DISABLE_TELEMETRY: 'true' });
    }
    case 'locust':
      return spawnTool(path.join(HOME, 'locust', 'venv', 'bin', 'locust'), ['-f', path.join(PEERS, 'locustfile.py'), '--headless', '--only-summary', '--loglevel', 'WARNING', '-u', String(vus), '-r', String(Math.max(1, Math.ceil(vus / rampS))), '-t', `${totalS}s`, '--host', url]);
    case 'gatling': {
      const dir = path.join(HOME, 'gatling');
      const classpath = `${fs.readFileSync(path.join(dir, 'cp.txt'), 'utf8').trim()}:${path.join(dir, 'classes')}`;
      return spawnTool('java', ['--add-opens=java.base/java.lang=ALL-UNNAMED', `-Dusers=${vus}`, `-DrampSeconds=${rampS}`, `-Dseconds=${totalS}`, `-Durl=${url}`, '-cp', classpath, 'io.gatling.app.Gatling', '-s', 'EchoSimulation', '-rf', path.join(scratch, 'gatling-results')]);
    }
  }
}

// ---------- the ruler: /proc over the tool's process tree, and the server's counts ----------

function processTree(root: number): number[] {
  const pids = [root];
  for (let i = 0; i < pids.length; i++) {
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${pids[i]}/task`);
    } catch {
      continue; // gone
    }
    for (const task of tasks) {
      try {
        for (const child of fs.readFileSync(`/proc/${pids[i]}/task/${task}/children`, 'utf8').trim().split(/\s+/)) if (child) pids.push(Number(child));
      } catch {
        // the task ended between the two reads
      }
    }
  }
  return pids;
}

function treeCpuTicks(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    try {
      // Fields after the command (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks;
}

function treeRssKb(root: number): number {
  let kb = 0;
  for (const pid of processTree(root)) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      kb += match ? Number(match[1]) : 0;
    } catch {
      // gone
    }
  }
  return kb;
}

async function stopTool(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    return; // already gone
  }
  if (await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])) return;
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  await exited;
}

async function measure(server: EchoServer, tool: ToolName, vus: number, steadyS: number): Promise<Measurement | undefined> {
  const rampS = Math.max(5, Math.ceil(vus / 1000));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `lagstorm-peer-${tool}-`));
  const child = launch(tool, { url: server.url, vus, rampS, totalS: rampS + steadyS + 60, scratch });
  const started = Date.now();
  try {
    // Every VU connected (or the ramp long over), then a few seconds to settle into the 2 s rhythm.
    let connected = 0;
    while (Date.now() - started < (rampS + 60) * 1000 && child.exitCode === null) {
      connected = (await server.stats()).connections;
      if (connected >= vus) break;
      await sleep(500);
    }
    if (connected < vus * 0.99) {
      const logFile = path.join(os.tmpdir(), `lagstorm-peer-${tool}-${vus}.log`);
      fs.copyFileSync(path.join(scratch, `${tool}.log`), logFile);
      log(`${tool} @ ${vus}: only ${connected} connected after ${Math.round((Date.now() - started) / 1000)} s; level skipped (its output: ${logFile})`);
      return undefined;
    }
    await sleep(5000);
    const before = { ticks: treeCpuTicks(child.pid!), actions: (await server.stats()).actions, at: Date.now() };
    const rss: number[] = [];
    const end = Date.now() + steadyS * 1000;
    while (Date.now() < end) {
      rss.push(treeRssKb(child.pid!));
      await sleep(Math.min(2000, Math.max(0, end - Date.now())));
    }
    const after = { ticks: treeCpuTicks(child.pid!), actions: (await server.stats()).actions, at: Date.now(), connections: (await server.stats()).connections };
    const cpuMicros = ((after.ticks - before.ticks) / CLOCK_TICKS_PER_S) * 1e6;
    const actions = after.actions - before.actions;
    const seconds = (after.at - before.at) / 1000;
    return {
      vus,
      connected: after.connections,
      rssMb: round(median(rss) / 1024),
      cpuMicrosPerAction: actions > 0 ? round(cpuMicros / actions) : NaN,
      actionsPerSecond: round(actions / seconds),
      cpuRatio: round(cpuMicros / 1e6 / seconds / os.cpus().length, 3),
    };
  } finally {
    await stopTool(child);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  for (const tool of TOOLS) install(tool);
  const server = await startEchoServer();
  const runs: Record<string, Array<Measurement | undefined>[]> = {};
  try {
    for (let runIndex = 0; runIndex < RUNS; runIndex++) {
      for (const tool of TOOLS) {
        const levels: Array<Measurement | undefined> = [];
        for (const vus of [1, ...LEVELS]) {
          if (Date.now() > DEADLINE) {
            log(`deadline reached: ${tool} @ ${vus} not measured`);
            levels.push(undefined);
            continue;
          }
          // One VU is the tool's own floor: memory only needs a short window.
          const measured = await measure(server, tool, vus, vus === 1 ? Math.min(STEADY_S, 20) : STEADY_S);
          if (measured) log(`run ${runIndex + 1} ${tool} @ ${vus}: ${measured.rssMb} MB, ${measured.cpuMicrosPerAction} µs/action, ${measured.actionsPerSecond} actions/s`);
          levels.push(measured);
        }
        (runs[tool] ??= []).push(levels);
      }
    }
  } finally {
    server.stop();
  }
  const top = LEVELS[LEVELS.length - 1];
  const tools = Object.fromEntries(
    TOOLS.map((tool) => {
      const perRun = runs[tool] ?? [];
      const at = (vus: number) => perRun.map((levels) => levels.find((m) => m?.vus === vus)).filter((m): m is Measurement => m !== undefined);
      const floor = median(at(1).map((m) => m.rssMb));
      const levels = Object.fromEntries(
        LEVELS.filter((vus) => at(vus).length > 0).map((vus) => {
          const measured = at(vus);
          const rssMb = median(measured.map((m) => m.rssMb));
          return [vus, { rssMb, kbPerVu: round(((rssMb - floor) * 1024) / vus), cpuMicrosPerAction: median(measured.map((m) => m.cpuMicrosPerAction)), actionsPerSecond: median(measured.map((m) => m.actionsPerSecond)), cpuRatio: median(measured.map((m) => m.cpuRatio)), runs: measured }];
        }),
      );
      const [lower, upper] = LEVELS.slice(-2).map((vus) => (levels[vus] as { rssMb: number } | undefined)?.rssMb);
      const slope = LEVELS.length >= 2 && lower !== undefined && upper !== undefined ? round(((upper - lower) * 1024) / (LEVELS[LEVELS.length - 1] - LEVELS[LEVELS.length - 2])) : undefined;
      return [tool, { oneVuRssMb: floor, levels, [`kbPerVuSlope${LEVELS.slice(-2).join('to')}`]: slope }];
    }),
  );
  const topOf = (tool: string) => (tools[tool]?.levels as Record<number, { kbPerVu: number; cpuMicrosPerAction: number }> | undefined)?.[top];
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? round(a / b, 2) : undefined);
  const ratios = {
    [`kbPerVuAt${top}`]: { fleetOverLocust: ratio(topOf('lagstorm')?.kbPerVu, topOf('locust')?.kbPerVu), fleetOverArtillery: ratio(topOf('lagstorm')?.kbPerVu, topOf('artillery')?.kbPerVu), fleetOverGatling: ratio(topOf('lagstorm')?.kbPerVu, topOf('gatling')?.kbPerVu) },
    [`cpuPerActionAt${top}`]: { fleetOverArtillery: ratio(topOf('lagstorm')?.cpuMicrosPerAction, topOf('artillery')?.cpuMicrosPerAction), fleetOverLocust: ratio(topOf('lagstorm')?.cpuMicrosPerAction, topOf('locust')?.cpuMicrosPerAction), fleetOverGatling: ratio(topOf('lagstorm')?.cpuMicrosPerAction, topOf('gatling')?.cpuMicrosPerAction) },
  };
  const result = {
    benchmark: 'peers',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    runs: RUNS,
    steadySeconds: STEADY_S,
    note: 'echo-ack server in its own process; each VU: one WebSocket, one action every 2 s after its ack; RSS summed over the tool processes (median over the steady window); KB/VU against the same tool at 1 VU; CPU over the steady window / actions the server counted; medians of runs',
    versions: { artillery: '2.0.21 (ws engine)', locust: '2.47 (websocket-client user)', gatling: '3.15.0 (Java DSL, default JVM heap)', lagstorm: 'startFleet with its default threads (botThreadsFor: the main thread up to 5 000 actions/s), metrics and history on' },
    tools,
    ratios,
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(ratios, null, 2));
  log(`results: ${path.relative(REPO, OUT)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
