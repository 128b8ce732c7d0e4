/**
 * A PostgreSQL cluster of the run's own: initdb in a run-private dir, a free loopback port,
 * fsync and synchronous_commit ON (durability is what lagstorm tests). PostgreSQL refuses to run
 * as root, so as root the cluster runs as the `postgres` system user.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { HarnessError } from '../core/exit-codes';
import type { DebrisRecorder } from './debris';
import { ManagedProcess } from './managed-process';
import { freePort } from './ports';
import type { PostgresHandle } from './types';

const run = promisify(execFile);

export const POSTGRES_MAJOR_VERSIONS = ['17', '16', '15'];

/** Finds the server binaries (initdb, postgres); Debian keeps them off PATH. */
export function findPostgresBinDir(): string | undefined {
  for (const major of POSTGRES_MAJOR_VERSIONS) {
    const dir = `/usr/lib/postgresql/${major}/bin`;
    if (fs.existsSync(path.join(dir, 'postgres')) && fs.existsSync(path.join(dir, 'initdb'))) return dir;
  }
  return undefined;
}

export interface StartPostgresOptions {
  /** A run-private directory; data/, wal/ and the socket go below it. */
  baseDir: string;
  logFile: string;
  port?: number;
  /** Extra server settings written to postgresql.conf, e.g. { max_wal_size: '64MB' }. */
  settings?: Record<string, string>;
  /** Put pg_wal on this directory (e.g. a small loop-mounted volume). */
  walDir?: string;
  debris?: DebrisRecorder;
  startTimeoutMs?: number;
}

export const DEFAULT_SETTINGS: Record<string, string> = {
  fsync: 'on',
  synchronous_commit: 'on',
  full_page_writes: 'on',
  max_connections: '200',
  shared_buffers: '128MB',
  track_wal_io_timing: 'on',
  // archive_mode needs a restart to change, so it is on from the start with a command that succeeds;
  // the failing-archiver fault swaps the command with a reload.
  archive_mode: 'on',
  archive_command: '/bin/true',
  logging_collector: 'off',
  log_checkpoints: 'on',
  // Every line carries a UTC time with ms and the pid, so `lagstorm explain` can place it on the run's timeline.
  log_line_prefix: '%m [%p] ',
  log_timezone: 'UTC',
};

function systemUser(name: string): { uid: number; gid: number } | undefined {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * mkdtemp makes 0700 dirs; PostgreSQL (as root: the `postgres` user) must be able to walk down to its
 * own dirs. Adds o+x to `dir` and its parents, but never above the temp dir: the host stays as it was.
 */
export function allowTraversalWithinTmp(dir: string): void {
  const tmp = fs.realpathSync(os.tmpdir());
  for (let current = fs.realpathSync(dir); current.startsWith(tmp + path.sep); current = path.dirname(current)) {
    const mode = fs.statSync(current).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(current, (mode & 0o7777) | 0o011);
  }
}

export class PostgresCluster extends ManagedProcess implements PostgresHandle {
  readonly host = '127.0.0.1';
  readonly database = 'postgres';

  constructor(
    readonly port: number,
    readonly dataDir: string,
    readonly walDir: string,
    options: ConstructorParameters<typeof ManagedProcess>[0],
  ) {
    super(options);
  }

  get superuserUrl(): string {
    return `postgresql://postgres@${this.host}:${this.port}/${this.database}`;
  }

  /** smart waits for clients, fast disconnects them cleanly, immediate is a crash (recovery on start). */
  async stopWithMode(mode: 'immediate' | 'fast' | 'smart'): Promise<void> {
    const signal = ({ smart: 'SIGTERM', fast: 'SIGINT', immediate: 'SIGQUIT' } as const)[mode];
    await this.stop(signal, 30_000);
  }
}

export async function canConnect(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A cluster after initdb, not yet running: createPostgresCluster gives it a port (retried if taken). */
export interface PreparedPostgres {
  binDir: string;
  dataDir: string;
  walDir: string;
  socketDir: string;
  owner?: { uid: number; gid: number };
  options: StartPostgresOptions;
}

/** initdb into options.baseDir (as the postgres user when running as root). */
export async function preparePostgres(options: StartPostgresOptions): Promise<PreparedPostgres> {
  const binDir = findPostgresBinDir();
  if (!binDir) throw new HarnessError('PostgreSQL server binaries not found in /usr/lib/postgresql/<15|16|17>/bin; run `lagstorm setup` (installs the Debian package postgresql-15)');
  const owner = process.getuid?.() === 0 ? systemUser('postgres') : undefined;
  if (process.getuid?.() === 0 && !owner) throw new HarnessError('running as root but there is no `postgres` system user to run PostgreSQL as; run `lagstorm setup`');

  const dataDir = path.join(options.baseDir, 'pgdata');
  const walDir = options.walDir ?? path.join(options.baseDir, 'pgwal');
  const socketDir = path.join(options.baseDir, 'pgsocket');
  for (const dir of [options.baseDir, socketDir, ...(options.walDir ? [walDir] : [])]) fs.mkdirSync(dir, { recursive: true });
  if (owner) {
    for (const dir of [options.baseDir, socketDir, walDir].filter(fs.existsSync)) fs.chownSync(dir, owner.uid, owner.gid);
    allowTraversalWithinTmp(path.dirname(options.baseDir)); // baseDir itself now belongs to postgres
  }

  try {
    await run(path.join(binDir, 'initdb'), ['-D', dataDir, `--waldir=${walDir}`, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
      uid: owner?.uid,
      gid: owner?.gid,
      timeout: 60_000,
    });
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new HarnessError(`PostgreSQL initdb failed in ${dataDir}: ${detail.trim()}`);
  }
  const settings = { ...DEFAULT_SETTINGS, ...options.settings };
  const lines = Object.entries(settings).map(([name, value]) => `${name} = '${value.replace(/'/g, "''")}'`);
  fs.appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n# lagstorm run settings\n${lines.join('\n')}\n`);
  return { binDir, dataDir, walDir, socketDir, owner, options };
}

/** The server process of a prepared cluster on one port; call start() to run it. */
export function createPostgresCluster(prepared: PreparedPostgres, port: number): PostgresCluster {
  const { binDir, dataDir, walDir, socketDir, owner, options } = prepared;
  // Only what differs per start goes on the command line: -c would beat ALTER SYSTEM, which faults use.
  const perStart = { port: String(port), listen_addresses: '127.0.0.1', unix_socket_directories: socketDir };
  const args = ['-D', dataDir, ...Object.entries(perStart).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  fs.writeFileSync(options.logFile, '');
  if (owner) fs.chownSync(options.logFile, owner.uid, owner.gid);
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  return new PostgresCluster(port, dataDir, walDir, {
    name: 'postgresql',
    command: path.join(binDir, 'postgres'),
    args,
    logFile: options.logFile,
    healthCheck: () => canConnect(url),
    startTimeoutMs: options.startTimeoutMs ?? 30_000,
    uid: owner?.uid,
    gid: owner?.gid,
    debris: options.debris,
    env: { ...process.env, LC_ALL: 'C' },
  });
}

export async function startPostgres(options: StartPostgresOptions): Promise<PostgresCluster> {
  const prepared = await preparePostgres(options);
  const cluster = createPostgresCluster(prepared, options.port ?? (await freePort()));
  await cluster.start();
  return cluster;
}
