/**
 * The containers runtime's SystemUnderTest: ServiceControls over containers (docker kill / stop /
 * start / pause-unpause), superuser SQL and stop modes on the PostgreSQL container, the links'
 * Toxiproxy proxies, and the host ports (host networking: nft rules on them work as for processes).
 * Where the host allows it (root, loop devices, the host's pg_controldata), the cluster lives in the
 * run's work dir, bind-mounted at the same path with rslave propagation: `database:wal-dir` and
 * `host:loop-volume` (a loop volume a fault mounts there shows up in the container, its unmount too).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PostgresContainer } from './container-parts';
import type { ContainerService } from './container-service';
import type { DebrisRecorder } from './debris';
import { findPostgresBinDir } from './postgres';
import { linkCapability, serviceCapability, type Capability, type LinkControl, type ServiceAction, type ServiceControl, type SystemUnderTest } from './system-under-test';
import { ToxiproxyApi } from './toxiproxy-api';
import type { LinkName, ProxyLink } from './types';

const SERVICE_ACTIONS: ServiceAction[] = ['kill', 'stop', 'start', 'pause'];
const LINKS: LinkName[] = ['bots-backend', 'bots-backend-v6', 'backend-db'];

function serviceCapabilities(names: string[]): Capability[] {
  return names.flatMap((name) => SERVICE_ACTIONS.map((action) => serviceCapability(name, action)));
}

/** Whether this host can keep pg_wal of the PostgreSQL container on a host path faults may re-point. */
export interface HostWalSupport {
  /** Root (mounts, loop devices), the host's pg_controldata, losetup / mkfs.ext4 / mount: `database:wal-dir`, `host:loop-volume`. */
  walDir: boolean;
}

const hasTool = (name: string): boolean => ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((dir) => fs.existsSync(path.join(dir, name)));

export function hostWalSupport(): HostWalSupport {
  return { walDir: process.getuid?.() === 0 && findPostgresBinDir() !== undefined && ['losetup', 'mkfs.ext4', 'mount', 'umount'].every(hasTool) };
}

function walCapabilities(support: HostWalSupport): Capability[] {
  return support.walDir ? ['database:wal-dir', 'host:loop-volume'] : [];
}

/**
 * What the containers runtime offers before a stack exists (extra backend services add their own
 * `service:<name>:*` once started). The WAL-volume capabilities only where the host supports them
 * (root, the host's pg_controldata, loop devices); without them `wal-disk-full` is refused before the
 * run. Never `host:blkio`: slow-wal-disk throttles the loop device in the root blkio cgroup, which
 * does not reach the container's own cgroup (measured: commits 4.0 ms before, 3.6 ms "during").
 */
export function containersRuntimeCapabilities(support: HostWalSupport = hostWalSupport()): Capability[] {
  return [...serviceCapabilities(['backend', 'postgres', 'toxiproxy', 'prometheus']), 'database:sql', 'database:stop-modes', ...walCapabilities(support), ...LINKS.map(linkCapability), 'host:nft'];
}

export interface ContainerServiceControlOptions {
  name: string;
  kill?: () => Promise<void>;
  stop?: () => Promise<void>;
}

/** A ServiceControl over one container: docker kill / signal then wait / start / pause-unpause. */
export function containerServiceControl(service: ContainerService, options: ContainerServiceControlOptions): ServiceControl {
  const control: ServiceControl = {
    name: options.name,
    logFile: service.logFile,
    instance: () => (service.isRunning() && service.containerId ? `container ${service.containerId} (pid ${service.pid})` : undefined),
    isRunning: () => service.isRunning(),
    kill: async () => {
      await service.resume().catch(() => undefined);
      await (options.kill ?? (() => service.stop('SIGKILL')))();
    },
    stop: async () => {
      await service.resume().catch(() => undefined);
      await (options.stop ?? (() => service.stop('SIGTERM', 10_000)))();
    },
    start: () => service.start(),
    pause: () => service.pause(),
    resume: () => service.resume(),
  };
  return control;
}

function portOf(hostPort: string): number | undefined {
  const port = Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

export interface ContainersSutParts {
  runId: string;
  /** pg_wal on a host path (PostgresContainer.dataDir / walDir are host paths then). */
  walOnHost?: HostWalSupport;
  workDir: string;
  debris: DebrisRecorder;
  backend: ContainerService & { wsPort: number };
  postgres: PostgresContainer;
  toxiproxy: ContainerService & { apiUrl: string };
  prometheus: ContainerService;
  links: Partial<Record<LinkName, ProxyLink>>;
  /** The backend's extra services by name. */
  extraServices: Record<string, ContainerService>;
}

export function containersSystemUnderTest(parts: ContainersSutParts): SystemUnderTest {
  const { postgres } = parts;
  const services: Record<string, ServiceControl> = {};
  for (const [name, service] of Object.entries(parts.extraServices)) services[name] = containerServiceControl(service, { name });
  // The backend drains in-flight actions on SIGTERM (up to 10 s), as in the process runtime.
  services.backend = containerServiceControl(parts.backend, { name: 'backend', stop: () => parts.backend.stop('SIGTERM', 15_000) });
  services.toxiproxy = containerServiceControl(parts.toxiproxy, { name: 'toxiproxy', stop: () => parts.toxiproxy.stop('SIGTERM', 5000) });
  services.prometheus = containerServiceControl(parts.prometheus, { name: 'prometheus', stop: () => parts.prometheus.stop('SIGTERM', 8000) });
  // A crash is PostgreSQL's immediate stop (no checkpoint, recovery on start), as in the process runtime.
  services.postgres = containerServiceControl(postgres, { name: 'postgres', kill: () => postgres.stopWithMode('immediate'), stop: () => postgres.stopWithMode('fast') });

  const api = new ToxiproxyApi(parts.toxiproxy.apiUrl);
  const links: Partial<Record<LinkName, LinkControl>> = {};
  for (const link of Object.values(parts.links)) if (link) links[link.name] = { name: link.name, proxy: link.name, listen: link.listen, upstream: link.upstream, toxiproxy: api };

  const capabilities = new Set<Capability>([
    ...serviceCapabilities(Object.keys(services)),
    'database:sql',
    'database:stop-modes',
    ...(parts.walOnHost ? walCapabilities(parts.walOnHost) : []),
    ...Object.keys(links).map(linkCapability),
    'host:nft',
  ]);
  return {
    runtime: 'containers',
    runId: parts.runId,
    capabilities,
    workDir: parts.workDir,
    debris: parts.debris,
    services,
    database: {
      service: 'postgres',
      superuserUrl: postgres.superuserUrl,
      stopWithMode: (mode) => postgres.stopWithMode(mode),
      ...(parts.walOnHost?.walDir ? { dataDir: postgres.dataDir, walDir: postgres.walDir } : {}),
    },
    links,
    host: {
      portOf(target) {
        if (target === 'backend') return parts.backend.wsPort;
        if (target === 'postgres') return postgres.port;
        const link = parts.links[target];
        return link ? portOf(link.listen) : undefined;
      },
    },
  };
}

