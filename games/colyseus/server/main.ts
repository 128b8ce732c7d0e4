/**
 * The Colyseus example backend: a real Colyseus 0.16 server (@colyseus/core with the WebSocket
 * transport) whose `world` room keeps players in PostgreSQL.
 *
 *   node bin/run-ts.js games/colyseus/server/main.ts --port <ws> --admin-port <admin> --database-url <url> [--defect <name>]
 *
 * Colyseus's matchmaking (HTTP) and rooms (WebSocket) share the game port on 127.0.0.1 and ::1;
 * the admin API is on 127.0.0.1. Ready when GET <admin>/readyz answers 200.
 */
import http from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { Server } from '@colyseus/core';
import { WebSocketTransport } from '@colyseus/ws-transport';
import { Pool } from 'pg';
import { ROOM } from '../rules';
import { createAdminServer } from './admin';
import { DEFECTS, isDefect } from './defects';
import { createMetrics } from './metrics';
import { PostgresStore, SaveOnLeaveStore, SCHEMA, type GameStore } from './store';
import { worldRoom } from './world-room';

const log = (message: string): void => console.log(`${new Date().toISOString()} ${message}`);

function fail(message: string): never {
  console.error(`colyseus backend: ${message}`);
  process.exit(2);
}

const { values } = parseArgs({ options: { port: { type: 'string' }, 'admin-port': { type: 'string' }, 'database-url': { type: 'string' }, defect: { type: 'string', default: 'none' } } });
const port = Number(values.port);
const adminPort = Number(values['admin-port']);
if (!Number.isInteger(port) || port <= 0) fail('--port <ws port> is required');
if (!Number.isInteger(adminPort) || adminPort <= 0) fail('--admin-port <admin port> is required');
if (!values['database-url']) fail('--database-url <postgresql://...> is required');
const defect = values.defect ?? 'none';
if (defect !== 'none' && !isDefect(defect)) fail(`unknown --defect "${defect}"; use none or one of: ${Object.keys(DEFECTS).join(', ')}`);

// Bounded waits: a cut database link must turn into an error reply, never a hung room.
const pool = new Pool({ connectionString: values['database-url'], max: 10, connectionTimeoutMillis: 3000, idleTimeoutMillis: 10_000, statement_timeout: 5000 });
pool.on('error', (error) => log(`database: idle connection lost: ${error.message}`));

const store: GameStore = defect === 'save-on-leave' ? new SaveOnLeaveStore(pool) : new PostgresStore(pool, defect === 'nonatomic-transfer' ? { nonatomicTransfer: { gapMs: 150 } } : {});
const metrics = createMetrics();
let shuttingDown = false;

/** Creates the schema, retrying while the database is unreachable (it may be started later, or cut). */
async function createSchema(): Promise<void> {
  for (;;) {
    try {
      await pool.query(SCHEMA);
      return;
    } catch (error) {
      // Two servers may start at once after a crash: a lost CREATE race just retries.
      log(`schema: ${(error as Error).message}; retrying`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function main(): Promise<void> {
  const schema = createSchema();
  let listening = false;
  const admin = createAdminServer({ store, metrics, ready: () => (listening ? schema : undefined), ping: () => pool.query('SELECT 1') });
  await new Promise<void>((resolve, reject) => admin.once('error', reject).listen(adminPort, '127.0.0.1', resolve));

  const httpServer = http.createServer();
  // Colyseus pings every client; two missed pongs and the socket is terminated.
  const transport = new WebSocketTransport({ server: httpServer, pingInterval: 2000, pingMaxRetries: 2 });
  const gameServer = new Server({ transport, greet: false });
  gameServer.define(ROOM, worldRoom({ store, metrics, log, shuttingDown: () => shuttingDown }));
  gameServer.onBeforeShutdown(() => {
    shuttingDown = true;
    log('shutting down: closing rooms (players leave)');
  });
  gameServer.onShutdown(async () => {
    admin.close();
    await pool.end().catch(() => undefined);
  });
  await gameServer.listen(port, '127.0.0.1');
  // The same HTTP server on [::1]: its sockets are handed to the one Colyseus listens with.
  const v6 = net.createServer((socket) => httpServer.emit('connection', socket));
  await new Promise<void>((resolve) => {
    v6.once('error', (error) => {
      log(`[::1]:${port} not available (${error.message}); serving 127.0.0.1 only`);
      resolve();
    });
    v6.listen(port, '::1', resolve);
  });
  log(`colyseus backend listening on ws://127.0.0.1:${port} and ws://[::1]:${port}, admin http://127.0.0.1:${adminPort}, defect ${defect}`);
  listening = true;
  await schema;
  log('schema ready');
}

main().catch((error: Error) => fail(error.stack ?? error.message));
