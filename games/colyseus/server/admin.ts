/** The Colyseus example's admin HTTP API on 127.0.0.1: /readyz, /metrics, /state. */
import http from 'node:http';
import type { GameMetrics } from './metrics';
import type { GameStore } from './store';

export interface AdminDeps {
  store: GameStore;
  metrics: GameMetrics;
  /** Resolves once the game server listens and the schema exists; then /readyz also pings the database. */
  ready(): Promise<void> | undefined;
  ping(): Promise<unknown>;
}

export function createAdminServer(deps: AdminDeps): http.Server {
  const send = (response: http.ServerResponse, status: number, body: string, type = 'text/plain') => response.writeHead(status, { 'content-type': type }).end(body);
  return http.createServer((request, response) => {
    const url = request.url ?? '/';
    const fail = (status: number) => (error: Error) => send(response, status, `${error.message}\n`);
    if (url === '/readyz') {
      const ready = deps.ready();
      if (!ready) return send(response, 503, 'starting\n');
      void ready.then(() => deps.ping()).then(() => send(response, 200, 'ready\n'), fail(503));
    } else if (url === '/healthz') {
      send(response, 200, 'ok\n');
    } else if (url === '/metrics') {
      void deps.metrics.registry.metrics().then((text) => send(response, 200, text, deps.metrics.registry.contentType), fail(500));
    } else if (url === '/state') {
      // Every player's holdings and every applied key, in one REPEATABLE READ snapshot.
      void deps.store.snapshot().then((state) => send(response, 200, JSON.stringify(state), 'application/json'), fail(503));
    } else {
      send(response, 404, 'try /readyz, /metrics or /state\n');
    }
  });
}
