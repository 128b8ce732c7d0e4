/**
 * A tiny demo backend so the scaffold runs out of the box: gold per player over WebSocket JSON,
 * applied once per (player, seq), kept in memory (a backend-crash fault would lose it: yours keeps
 * it in a database). It takes the standard flags `lagstorm run` passes: --port (WebSocket),
 * --admin-port (HTTP: GET /readyz, /state, /metrics) and --database-url (unused here).
 * REPLACE: point `server.entry` in index.ts at your own backend, or use `target` in the scenario.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({ options: { port: { type: 'string' }, 'admin-port': { type: 'string' }, 'database-url': { type: 'string' }, defect: { type: 'string' } }, strict: false });
const players = new Map<string, { gold: number; lastSeq: number; applied: Set<number> }>();

type Request = { id: number; op: string; player: string; seq?: number; amount?: number };

function handle(request: Request): Record<string, unknown> {
  const player = players.get(request.player) ?? { gold: 0, lastSeq: 0, applied: new Set<number>() };
  players.set(request.player, player);
  if (request.op === 'login') return { ok: true, gold: player.gold, lastSeq: player.lastSeq };
  const seq = request.seq ?? 0;
  if (player.applied.has(seq)) return { ok: true, gold: player.gold }; // a resend: already applied once
  const amount = request.amount ?? 0;
  if (request.op === 'collect') player.gold += amount;
  else if (request.op === 'spend' && player.gold >= amount) player.gold -= amount;
  else if (request.op === 'spend') return { ok: false, error: 'not enough gold', gold: player.gold };
  else return { ok: false, error: `unknown op ${request.op}` };
  player.applied.add(seq);
  player.lastSeq = Math.max(player.lastSeq, seq);
  return { ok: true, gold: player.gold };
}

for (const host of ['127.0.0.1', '::1']) {
  new WebSocketServer({ host, port: Number(values.port) }).on('connection', (socket) => {
    socket.on('message', (data) => {
      const request = JSON.parse(String(data)) as Request;
      socket.send(JSON.stringify({ id: request.id, ...handle(request) }));
    });
  });
}

http
  .createServer((request, response) => {
    if (request.url === '/readyz') return void response.writeHead(200).end('ready');
    if (request.url === '/state') {
      const state = Object.fromEntries([...players].map(([id, player]) => [id, { gold: player.gold }]));
      return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state));
    }
    if (request.url === '/metrics') return void response.writeHead(200, { 'content-type': 'text/plain' }).end(`# TYPE demo_players gauge\ndemo_players ${players.size}\n`);
    response.writeHead(404).end();
  })
  .listen(Number(values['admin-port']), '127.0.0.1');

process.on('SIGTERM', () => process.exit(0));
