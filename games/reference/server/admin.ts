/**
 * Admin HTTP on 127.0.0.1: health, readiness, the checkers' read API and /metrics.
 * Reads go straight to the database (the truth the checkers judge), never to the in-memory cache.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import { checkout, timedQuery } from './database';
import { errorText, type Logger } from './log';
import type { BackendMetrics } from './metrics';
import { readActionLog, readPlayer, readSnapshot } from './store';

export interface AdminOptions {
  pool: Pool;
  metrics: BackendMetrics;
  log: Logger;
  /** true once migrations ran and the server is not draining. */
  isReady: () => boolean;
}

function json(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(text);
}

export function createAdminServer({ pool, metrics, log, isReady }: AdminOptions): http.Server {
  const route = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    if (request.method !== 'GET') return json(response, 405, { error: 'only GET is supported' });
    if (path === '/healthz') return json(response, 200, { status: 'ok' });
    if (path === '/readyz') {
      if (!isReady()) return json(response, 503, { status: 'not ready' });
      try {
        await timedQuery(pool, metrics, 'ready-check', 'SELECT 1');
        return json(response, 200, { status: 'ready' });
      } catch (error) {
        return json(response, 503, { status: 'database unreachable', error: errorText(error) });
      }
    }
    if (path === '/metrics') {
      const text = await metrics.registry.metrics();
      response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
      return;
    }
    if (path === '/admin/snapshot') {
      const client = await checkout(pool, log);
      let failed: Error | undefined;
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const snapshot = await readSnapshot(client, metrics);
        await client.query('COMMIT');
        return json(response, 200, snapshot);
      } catch (error) {
        failed = error as Error;
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release(failed);
      }
    }
    const player = /^\/admin\/players\/([^/]+)(\/actions)?$/.exec(path);
    if (player) {
      const id = player[1];
      if (player[2]) return json(response, 200, { player: id, actions: await readActionLog(pool, metrics, id) });
      const found = await readPlayer(pool, metrics, id);
      return found ? json(response, 200, found) : json(response, 404, { error: `no player '${id}'` });
    }
    return json(response, 404, { error: `no route ${path}; try /healthz, /readyz, /metrics, /admin/snapshot, /admin/players/:id[/actions]` });
  };

  return http.createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      log('warn', 'admin request failed', { url: request.url, error: errorText(error) });
      if (!response.headersSent) json(response, 503, { error: errorText(error) });
      else response.end();
    });
  });
}

export async function listenAdmin(server: http.Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1' }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
