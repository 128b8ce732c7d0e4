/**
 * The fake game server as its own process (benchmarks measure the bots' side alone):
 * node bin/run-ts.js games/reference/client/testing/fake-game-server-main.ts → prints {"port":N} on stdout.
 */
import { FakeGameServer } from './fake-game-server';

void FakeGameServer.start(0, { recordReceived: false }).then((server) => {
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Exit with the parent: stdin closes when the benchmark ends, however it ends.
  process.stdin.resume();
  process.stdin.on('end', stop);
});
