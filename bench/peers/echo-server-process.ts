/**
 * The echo-ack server (echo-ack-server.ts) in its own process, as the peer and bots benches use it:
 * its port from its first line, its counters on demand (`stats`), stopped by SIGTERM.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import * as readline from 'node:readline';

export interface EchoServer {
  url: string;
  stats(): Promise<{ connections: number; actions: number }>;
  stop(): void;
}

export async function startEchoServer(): Promise<EchoServer> {
  const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'run-ts.js'), path.join(__dirname, 'echo-ack-server.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout! });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('echo-ack server did not answer within 20 s')), 20_000);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const { port } = JSON.parse(await next()) as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    async stats() {
      const answer = next();
      child.stdin!.write('stats\n');
      return JSON.parse(await answer) as { connections: number; actions: number };
    },
    stop: () => void child.kill('SIGTERM'),
  };
}
