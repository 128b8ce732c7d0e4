/**
 * Composes the backend: admin HTTP first (health answers at once), then migrations (retried with
 * backoff until the database answers), then the game core and the WebSocket listeners.
 */
import type http from 'node:http';
import { createAdminServer, listenAdmin } from './admin';
import type { BackendConfig } from './config';
import { createPool, migrate } from './database';
import { GameCore } from './game-core';
import { Gateway } from './gateway';
import { errorText, type Logger } from './log';
import { createMetrics, type BackendMetrics } from './metrics';
import { backoffDelay } from './retry';

export interface RunningBackend {
  readonly wsPort: number;
  readonly adminPort: number;
  readonly hosts: string[];
  readonly metrics: BackendMetrics;
  /** Graceful stop (SIGTERM): stop accepting, drain in-flight work, close sessions, release the database. */
  shutdown(): Promise<{ drained: boolean }>;
}

export const WS_HOSTS = ['127.0.0.1', '::1'];

/** How long startup waits for the database before giving up. */
const MIGRATE_TIMEOUT_MS = 60_000;

export async function startBackend(config: BackendConfig, log: Logger): Promise<RunningBackend> {
  const metrics = createMetrics();
  const pool = createPool(config.databaseUrl, config.queryTimeoutMs, log);
  let ready = false;
  let stopping = false;
  const admin: http.Server = createAdminServer({ pool, metrics, log, isReady: () => ready && !stopping });
  const adminPort = await listenAdmin(admin, config.adminPort);
  log('info', 'admin listening', { url: `http://127.0.0.1:${adminPort}` });

  const migrateDeadline = Date.now() + MIGRATE_TIMEOUT_MS;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await migrate(pool, metrics, log);
      break;
    } catch (error) {
      // Wrong credentials or database never get better: say so at once, naming the flag.
      const code = (error as { code?: string }).code;
      if (code === '28P01' || code === '28000' || code === '3D000' || Date.now() > migrateDeadline) {
        admin.close();
        await pool.end().catch(() => undefined);
        throw new Error(`--database-url: cannot use the database (${errorText(error)})${code ? '' : ` after ${MIGRATE_TIMEOUT_MS / 1000} s of retries`}; check the URL and that PostgreSQL runs`);
      }
      const delay = Math.max(100, backoffDelay(attempt, { ...config.retry, backoff: true, capMs: 2000 }));
      log('warn', 'database not ready for migrations; retrying', { attempt: attempt + 1, delayMs: delay, error: errorText(error) });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  const core = new GameCore(pool, metrics, config, log);
  core.start();
  const gateway = new Gateway(core, metrics, log);
  // DEFECT ipv4-only: the IPv6 listener is missing.
  const hosts = config.defects.has('ipv4-only') ? ['127.0.0.1'] : WS_HOSTS;
  const wsPort = await gateway.listen(config.port, hosts);
  ready = true;
  log('info', 'backend ready', { wsPort, hosts, adminPort, defects: [...config.defects] });

  let shutdownPromise: Promise<{ drained: boolean }> | undefined;
  const shutdown = () =>
    (shutdownPromise ??= (async () => {
      stopping = true;
      log('info', 'shutting down: draining in-flight actions');
      gateway.stopAccepting();
      core.beginDrain();
      const drained = await core.waitIdle(config.drainTimeoutMs);
      if (!drained) log('warn', 'drain timed out; closing sessions with work still queued', { drainTimeoutMs: config.drainTimeoutMs });
      await gateway.closeAll();
      await core.stop();
      await pool.end().catch(() => undefined);
      admin.closeAllConnections();
      await new Promise((resolve) => admin.close(resolve));
      log('info', 'shut down', { drained });
      return { drained };
    })());

  return { wsPort, adminPort, hosts, metrics, shutdown };
}
