/**
 * A backend that is not the reference one, from its own image: the counter test game's server in an
 * image built here from a tiny Dockerfile (FROM lagstorm/reference-backend: Node and node_modules),
 * plus an extra service (a second Toxiproxy standing in for a cache) whose port reaches the backend
 * through a placeholder. The containers runtime runs it with the standard flags and it plays.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { getContainerRuntimeClient } from 'testcontainers';
import { containersRuntime } from '../stack/containers-runtime';
import { runLogged } from '../stack/images/docker-cli';
import { ensureImages, IMAGES } from '../stack/images/images';
import { configureTestcontainers, RUN_ID_LABEL, removeRunContainers } from '../stack/images/start-container';
import type { StartedStack } from '../stack/types';

const IMAGE = 'lagstorm-test/counter-backend:latest';
const runId = `ct-counter-${randomUUID().slice(0, 6)}`;
let workDir: string;
let stack: StartedStack | undefined;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-counter-image-'));
  await ensureImages({ roles: ['postgres', 'toxiproxy', 'prometheus', 'reference-backend'] });
  const context = path.join(workDir, 'context');
  fs.mkdirSync(context);
  fs.copyFileSync(path.join(__dirname, 'fixtures', 'counter-game', 'server.ts'), path.join(context, 'server.ts'));
  fs.writeFileSync(
    path.join(context, 'Dockerfile'),
    [`FROM ${IMAGES['reference-backend']}`, 'COPY server.ts /app/counter/server.ts', 'ENTRYPOINT ["node", "bin/run-ts.js", "counter/server.ts"]', ''].join('\n'),
  );
  await runLogged('docker', ['build', '--network', 'host', '-t', IMAGE, context], path.join(workDir, 'build.log'), `docker build ${IMAGE}`);
}, 900_000);

afterAll(async () => {
  await stack?.stop().catch(() => undefined);
  await removeRunContainers(runId);
  fs.rmSync(workDir, { recursive: true, force: true });
});

function exchange(url: string, requests: object[]): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: 3000 });
    const replies: Array<Record<string, unknown>> = [];
    const timer = setTimeout(() => reject(new Error(`no reply within 10 s (got ${JSON.stringify(replies)})`)), 10_000);
    socket.once('open', () => socket.send(JSON.stringify(requests[0])));
    socket.on('message', (data) => {
      replies.push(JSON.parse(String(data)) as Record<string, unknown>);
      if (replies.length < requests.length) return socket.send(JSON.stringify(requests[replies.length]));
      clearTimeout(timer);
      socket.close();
      resolve(replies);
    });
    socket.once('error', reject);
  });
}

test('the counter game from its own image plays through the bots-backend proxy; an extra service gets its port', async () => {
  stack = await containersRuntime.start({
    runId,
    runDir: path.join(workDir, 'run'),
    backend: {
      image: IMAGE,
      env: { CACHE_URL: 'http://127.0.0.1:{{services.cache.port}}', RUN: '{{run.id}}' },
      services: [{ name: 'cache', image: IMAGES.toxiproxy, env: { TOXIPROXY_PORT: '{{port}}' }, ready: { http: '/version' } }],
    },
  });
  const replies = await exchange(stack.endpoints.botsWsUrl, [
    { id: 1, op: 'login', player: 'p1' },
    { id: 2, op: 'increment', player: 'p1', seq: 1, by: 5 },
    { id: 3, op: 'increment', player: 'p1', seq: 1, by: 5 }, // a resend: applied once
  ]);
  expect(replies.map((reply) => reply.value)).toEqual([0, 5, 5]);
  expect(await (await fetch(`${stack.endpoints.backendAdminUrl}/state`)).json()).toEqual({ p1: 5 });

  // The extra service: a ServiceControl of its own, and its port reached the backend's env.
  expect(stack.sut.capabilities.has('service:cache:pause')).toBe(true);
  expect(stack.sut.services.cache.isRunning()).toBe(true);
  configureTestcontainers();
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const [backendInfo] = await docker.listContainers({ filters: { label: [`${RUN_ID_LABEL}=${runId}`, 'lagstorm.role=backend'] } });
  const env = (await docker.getContainer(backendInfo.Id).inspect()).Config.Env;
  const cacheUrl = env.find((line) => line.startsWith('CACHE_URL='))!.slice('CACHE_URL='.length);
  expect((await fetch(`${cacheUrl}/version`)).ok).toBe(true);
  expect(env).toContain(`RUN=${runId}`);

  await stack.stop();
  stack = undefined;
  expect(await docker.listContainers({ all: true, filters: { label: [`${RUN_ID_LABEL}=${runId}`] } })).toEqual([]);
}, 240_000);
