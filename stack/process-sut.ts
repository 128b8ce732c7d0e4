/**
 * The process runtime's SystemUnderTest: ServiceControls over local child processes (signals and
 * /proc stay in here), the database's host paths, the links' Toxiproxy proxies and host ports.
 */
import fs from 'node:fs';
import { HarnessError } from '../core/exit-codes';
import type { DebrisRecorder } from './debris';
import { readProcStat, type ManagedProcess } from './managed-process';
import type { PostgresCluster } from './postgres';
import {
  linkCapability,
  serviceCapability,
  type Capability,
  type LinkControl,
  type ServiceAction,
  type ServiceControl,
  type SystemUnderTest,
} from './system-under-test';
import { ToxiproxyApi } from './toxiproxy-api';
import type { LinkName, ProxyLink } from './types';

const SERVICE_ACTIONS: ServiceAction[] = ['kill', 'stop', 'start', 'pause'];
const LINKS: LinkName[] = ['bots-backend', 'bots-backend-v6', 'backend-db'];
const HOST_CAPABILITIES: Capability[] = ['host:nft', 'host:loop-volume', 'host:blkio'];
const DATABASE_CAPABILITIES: Capability[] = ['database:sql', 'database:stop-modes', 'database:wal-dir'];

function serviceCapabilities(names: string[]): Capability[] {
  return names.flatMap((name) => SERVICE_ACTIONS.map((action) => serviceCapability(name, action)));
}

/** Everything the process runtime offers: today's faults all run on it. */
export const PROCESS_RUNTIME_CAPABILITIES: readonly Capability[] = [
  ...serviceCapabilities(['backend', 'postgres', 'toxiproxy', 'prometheus']),
  ...DATABASE_CAPABILITIES,
  ...LINKS.map(linkCapability),
  ...HOST_CAPABILITIES,
];

/**
 * What the process runtime offers in front of a backend it did not start (scenario `target`): the
 * bots' links to it and nft rules on their proxy ports. No service to kill, no database, no volume.
 */
export const TARGET_CAPABILITIES: readonly Capability[] = [linkCapability('bots-backend'), linkCapability('bots-backend-v6'), 'host:nft'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The service leads its own process group (spawned detached): PostgreSQL's postmaster and its backends. */
const leadsGroup = (pid: number): boolean => readProcStat(pid)?.pgid === pid;

/** Signals the process group the service leads, else the process. */
function signalService(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(leadsGroup(pid) ? -pid : pid, signal);
  } catch {
    // gone in between
  }
}

/** Live processes of the group `pgid` (from /proc). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat?.pgid === pgid && stat.state !== 'Z' && stat.state !== 'X') members.push(Number(entry));
  }
  return members;
}

/** Waits (up to 1 s) until the service, and every process of its group, is frozen (state T) or running. */
async function waitForState(pid: number, frozen: boolean): Promise<boolean> {
  const processes = () => (leadsGroup(pid) ? groupMembers(pid) : [pid]);
  const settled = () => processes().every((member) => (readProcStat(member)?.state === 'T') === frozen);
  for (let i = 0; i < 40 && !settled(); i++) await sleep(25);
  return settled();
}

export interface ProcessServiceOptions {
  /** The service's name in the SUT ('backend'), which may differ from the process's. */
  name: string;
  kill?: (part: ManagedProcess) => Promise<void>;
  stop?: (part: ManagedProcess) => Promise<void>;
}

/** A ServiceControl over one child process: SIGKILL / SIGTERM with escalation / SIGSTOP+SIGCONT, checked in /proc. */
export function processServiceControl(part: ManagedProcess, options: ProcessServiceOptions): ServiceControl {
  const { name } = options;
  let pausedPid: number | undefined;
  const control: ServiceControl = {
    name,
    logFile: part.logFile,
    instance: () => (part.pid === undefined ? undefined : `pid ${part.pid}`),
    isRunning: () => part.isRunning(),
    kill: async () => {
      await control.resume().catch(() => undefined);
      await (options.kill ?? ((p) => p.stop('SIGKILL')))(part);
    },
    stop: async () => {
      await control.resume().catch(() => undefined);
      await (options.stop ?? ((p) => p.stop('SIGTERM', 10_000)))(part);
    },
    start: () => part.start(),
    async pause() {
      const pid = part.pid;
      if (!pid) throw new HarnessError(`${name} is not running; cannot pause it`);
      pausedPid = pid;
      signalService(pid, 'SIGSTOP');
      if (!(await waitForState(pid, true))) {
        await control.resume().catch(() => undefined);
        throw new HarnessError(`${name} pid ${pid} did not stop on SIGSTOP (state ${readProcStat(pid)?.state})`);
      }
    },
    async resume() {
      const pid = pausedPid;
      if (pid === undefined) return;
      signalService(pid, 'SIGCONT');
      if (!(await waitForState(pid, false))) throw new HarnessError(`${name} pid ${pid} is still stopped after SIGCONT`);
      pausedPid = undefined;
    },
  };
  return control;
}

/** Per-service stops of the process runtime (the time limits faults have always used). */
export const PROCESS_SERVICE_OPTIONS: Record<'backend' | 'toxiproxy' | 'prometheus', Omit<ProcessServiceOptions, 'name'>> = {
  backend: { stop: (p) => p.stop('SIGTERM', 15_000) }, // the backend drains in-flight actions on SIGTERM
  toxiproxy: { stop: (p) => p.stop('SIGTERM', 5000) },
  prometheus: { stop: (p) => p.stop('SIGTERM', 8000) },
};

function postgresServiceControl(cluster: PostgresCluster): ServiceControl {
  return processServiceControl(cluster, { name: 'postgres', kill: () => cluster.stopWithMode('immediate'), stop: () => cluster.stopWithMode('fast') });
}

function portOf(hostPort: string): number | undefined {
  const port = Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

export interface ProcessSutParts {
  runId: string;
  workDir: string;
  debris: DebrisRecorder;
  backend?: ManagedProcess & { wsPort: number };
  postgres?: PostgresCluster;
  toxiproxy?: ManagedProcess & { apiUrl: string };
  prometheus?: ManagedProcess;
  links: Partial<Record<LinkName, ProxyLink>>;
  /** Extra services by name (a second backend, a cache). */
  extraServices?: Record<string, ServiceControl>;
  /** Offer only the links and nft on their ports (TARGET_CAPABILITIES): the stack sits in front of a backend lagstorm did not start. */
  onlyLinks?: boolean;
}

/** The SUT of local processes; it offers the capabilities of the parts that exist. */
export function processSystemUnderTest(parts: ProcessSutParts): SystemUnderTest {
  const services: Record<string, ServiceControl> = { ...parts.extraServices };
  if (parts.backend) services.backend = processServiceControl(parts.backend, { name: 'backend', ...PROCESS_SERVICE_OPTIONS.backend });
  if (parts.toxiproxy && !parts.onlyLinks) services.toxiproxy = processServiceControl(parts.toxiproxy, { name: 'toxiproxy', ...PROCESS_SERVICE_OPTIONS.toxiproxy });
  if (parts.prometheus && !parts.onlyLinks) services.prometheus = processServiceControl(parts.prometheus, { name: 'prometheus', ...PROCESS_SERVICE_OPTIONS.prometheus });
  const postgres = parts.postgres;
  if (postgres) services.postgres = postgresServiceControl(postgres);

  const links: Partial<Record<LinkName, LinkControl>> = {};
  if (parts.toxiproxy) {
    const api = new ToxiproxyApi(parts.toxiproxy.apiUrl);
    for (const link of Object.values(parts.links)) if (link) links[link.name] = { name: link.name, proxy: link.name, listen: link.listen, upstream: link.upstream, toxiproxy: api };
  }

  const capabilities = new Set<Capability>([
    ...serviceCapabilities(Object.keys(services)),
    ...(postgres ? DATABASE_CAPABILITIES : []),
    ...Object.keys(links).map(linkCapability),
    ...(parts.onlyLinks ? TARGET_CAPABILITIES.filter((capability) => capability.startsWith('host:')) : HOST_CAPABILITIES),
  ]);
  const noDatabase = (): never => {
    throw new HarnessError('this system under test has no database');
  };
  return {
    runtime: 'process',
    runId: parts.runId,
    capabilities,
    workDir: parts.workDir,
    debris: parts.debris,
    services,
    database: postgres
      ? { service: 'postgres', superuserUrl: postgres.superuserUrl, stopWithMode: (mode) => postgres.stopWithMode(mode), dataDir: postgres.dataDir, walDir: postgres.walDir }
      : {
          service: 'postgres',
          get superuserUrl(): string {
            return noDatabase();
          },
        },
    links,
    host: {
      portOf(target) {
        if (target === 'backend') return parts.backend?.wsPort;
        if (target === 'postgres') return postgres?.port;
        const link = parts.links[target];
        return link ? portOf(link.listen) : undefined;
      },
    },
  };
}
