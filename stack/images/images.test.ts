/**
 * Integration: lagstorm's images start under testcontainers 11 with host networking and answer on
 * 127.0.0.1. Needs root and a Docker engine (started here when none answers); nothing is skipped:
 * without an engine the suite fails with the reason. The first build takes a few minutes, later
 * runs reuse the images (content-hash labels) and take seconds.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { StartedTestContainer } from 'testcontainers';
import { HarnessError } from '../../core/exit-codes';
import { freePort } from '../ports';
import { BASE_IMAGE } from './base-image';
import { IMAGES, ensureImages } from './images';
import { RUN_ID_LABEL, configureTestcontainers, removeLabelled, removeRunContainers, startContainer } from './start-container';

const runId = `test-${randomUUID().slice(0, 8)}`;
const started: StartedTestContainer[] = [];

async function start(...args: Parameters<typeof startContainer>): Promise<StartedTestContainer> {
  const container = await startContainer(...args);
  started.push(container);
  return container;
}

async function leftovers(): Promise<number> {
  configureTestcontainers();
  const { getContainerRuntimeClient } = await import('testcontainers');
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  return (await docker.listContainers({ all: true, filters: { label: [`${RUN_ID_LABEL}=${runId}`] } })).length;
}

beforeAll(async () => {
  // Throws (fails every test with the reason) when no engine can run here.
  await ensureImages({ log: (line) => console.log(`images: ${line}`) });
}, 900_000);

afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop().catch(() => undefined)));
  expect(await leftovers()).toBe(0);
});

afterAll(async () => {
  await removeRunContainers(runId);
});

describe('lagstorm images under testcontainers (host network)', () => {
  it('postgres: initdb with a separate WAL dir, SELECT 1 on 127.0.0.1, settings in postgresql.conf so ALTER SYSTEM works', async () => {
    const port = await freePort();
    const postgres = await start({
      image: IMAGES.postgres,
      runId,
      role: 'postgres',
      env: { PGPORT: String(port), PGWALDIR: '/var/lib/lagstorm/pgwal', LAGSTORM_PG_SETTINGS: 'track_wal_io_timing = on\nmax_wal_size = 256MB' },
      ready: { log: 'database system is ready to accept connections' },
    });
    const client = new Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` });
    await client.connect();
    try {
      expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      expect((await client.query('SHOW track_wal_io_timing')).rows[0].track_wal_io_timing).toBe('on');
      await client.query("ALTER SYSTEM SET max_wal_size = '64MB'");
      await client.query('SELECT pg_reload_conf()');
      // pg_reload_conf signals the postmaster; the backend picks the change up at its next command.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await client.query('SHOW max_wal_size')).rows[0].max_wal_size).toBe('64MB');
      const version = (await client.query('SHOW server_version')).rows[0].server_version as string;
      expect(version).toMatch(/^15\./);
      const walLink = await postgres.exec(['readlink', '/var/lib/lagstorm/pgdata/pg_wal']);
      expect(walLink.output.trim()).toBe('/var/lib/lagstorm/pgwal/pg_wal');
    } finally {
      await client.end();
    }
  }, 120_000);

  it('toxiproxy: GET /version on 127.0.0.1 answers v2.12.0', async () => {
    const port = await freePort();
    await start({ image: IMAGES.toxiproxy, runId, role: 'toxiproxy', env: { TOXIPROXY_PORT: String(port) }, ready: { http: { port, path: '/version' } } });
    const response = await fetch(`http://127.0.0.1:${port}/version`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('2.12.0');
  }, 60_000);

  it('prometheus: /-/ready on 127.0.0.1 with a config passed by env', async () => {
    const port = await freePort();
    const config = `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:${port}']`;
    await start({ image: IMAGES.prometheus, runId, role: 'prometheus', env: { PROMETHEUS_PORT: String(port), PROMETHEUS_CONFIG: config }, ready: { http: { port, path: '/-/ready' } } });
    const response = await fetch(`http://127.0.0.1:${port}/-/ready`);
    expect(response.status).toBe(200);
    // The loaded config is ours (targets themselves show up only after discovery, about 5 s).
    const status = (await (await fetch(`http://127.0.0.1:${port}/api/v1/status/config`)).json()) as { data: { yaml: string } };
    expect(status.data.yaml).toContain('job_name: self');
  }, 60_000);

  it('reference backend: starts against the postgres container and answers /healthz', async () => {
    const [pgPort, wsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
    await start({ image: IMAGES.postgres, runId, role: 'postgres', env: { PGPORT: String(pgPort) }, ready: { log: 'database system is ready to accept connections' } });
    await start({
      image: IMAGES['reference-backend'],
      runId,
      role: 'backend',
      env: { LAGSTORM_BACKEND_PORT: String(wsPort), LAGSTORM_BACKEND_ADMIN_PORT: String(adminPort), LAGSTORM_BACKEND_DATABASE_URL: `postgresql://postgres@127.0.0.1:${pgPort}/postgres` },
      ready: { http: { port: adminPort, path: '/healthz' } },
    });
    expect((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status).toBe(200);
  }, 120_000);
});

describe('the Colyseus example backend image', () => {
  it('is cached once built (a second ensureImages builds nothing) and serves /readyz against the postgres container', async () => {
    const again = await ensureImages({ roles: ['postgres', 'colyseus-backend'] });
    expect(again.map((report) => `${report.image} ${report.action}`)).toEqual([`${BASE_IMAGE} cached`, `${IMAGES.postgres} cached`, `${IMAGES['colyseus-backend']} cached`]);
    const [pgPort, wsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
    await start({ image: IMAGES.postgres, runId, role: 'postgres', env: { PGPORT: String(pgPort) }, ready: { log: 'database system is ready to accept connections' } });
    await start({
      image: IMAGES['colyseus-backend'],
      runId,
      role: 'backend',
      command: ['--port', String(wsPort), '--admin-port', String(adminPort), '--database-url', `postgresql://postgres@127.0.0.1:${pgPort}/postgres`],
      ready: { http: { port: adminPort, path: '/readyz' } },
    });
    expect((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status).toBe(200);
  }, 120_000);
});

describe('failures are clear and leave no container', () => {
  it('a missing image: names it and says to run setup --containers', async () => {
    const error = await startContainer({ image: 'lagstorm/does-not-exist:1', runId, role: 'ghost', ready: { port: 1 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as Error).message).toMatch(/lagstorm\/does-not-exist:1 \(ghost\) is not on this Docker engine; run `lagstorm setup --containers`/);
  });

  it('an image that exits at once: exit code and its last log lines, container removed', async () => {
    const port = await freePort();
    const error = await startContainer({ image: BASE_IMAGE, runId, role: 'crasher', command: ['sh', '-c', 'echo config is broken >&2; exit 7'], ready: { port } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as Error).message).toMatch(/lagstorm\/base:bookworm \(crasher, run test-\w+\) did not become ready: container exited \(code 7\)/);
    expect((error as Error).message).toContain('config is broken');
  }, 60_000);

  it('an exit before the log line: "log stream ended", container removed', async () => {
    const error = await startContainer({ image: BASE_IMAGE, runId, role: 'crasher', command: ['true'], ready: { log: 'ready to accept' } }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/did not become ready: Log stream ended and message "ready to accept" was not received/);
  }, 60_000);

  it('a command that cannot even start: the created container is removed too', async () => {
    const error = await startContainer({ image: BASE_IMAGE, runId, role: 'nocmd', command: ['/no/such/binary'], ready: { port: 1 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as Error).message).toMatch(/nocmd.*did not become ready:.*no such file/is);
    expect(await removeLabelled(RUN_ID_LABEL, runId)).toBe(0);
  }, 60_000);
});
