/**
 * The peer bench's server: a loopback WebSocket server that acknowledges every JSON message with
 * `{ id, ok: true }`, in its own process so no tool's figures include it. It counts connections
 * and `op: "ping"` actions itself, so every tool is measured by the same ruler.
 * stdout: `{"port":N}` once; then one JSON line of counts for each "stats" line on stdin.
 */
import * as readline from 'node:readline';
import { WebSocketServer } from 'ws';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, backlog: 4096 });
let connections = 0;
let actions = 0;

server.on('connection', (socket) => {
  connections += 1;
  socket.on('close', () => (connections -= 1));
  socket.on('error', () => undefined); // a tool killed mid-run resets its sockets; that is expected
  socket.on('message', (data) => {
    let id: unknown = null;
    try {
      const message = JSON.parse(data.toString()) as { id?: unknown; op?: unknown };
      id = message.id ?? null;
      if (message.op === 'ping') actions += 1;
    } catch {
      return; // not JSON: nothing to acknowledge
    }
    socket.send(`{"id":${JSON.stringify(id)},"ok":true}`);
  });
});

server.on('listening', () => {
  const address = server.address();
  if (typeof address === 'object' && address) process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stats') process.stdout.write(`${JSON.stringify({ connections, actions })}\n`);
});
// The driver closing stdin (or dying) ends the server.
process.stdin.on('end', () => process.exit(0));
