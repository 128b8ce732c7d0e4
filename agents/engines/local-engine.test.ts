/**
 * The local engine with real `lagstorm agent` processes: every agent that ends is reported (also
 * one that ended before anyone listened), each is in the run's state file only while it lives,
 * and stop() ends the ones still running, by their pids.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DebrisItem, DebrisRecorder } from '../../stack/debris';
import { localEngine } from './local-engine';

function memoryDebris(): DebrisRecorder & { history: string[] } {
  const items = new Map<string, DebrisItem>();
  let next = 1;
  const history: string[] = [];
  return {
    history,
    record(item) {
      const id = String(next++);
      items.set(id, item);
      history.push(`+${item.kind === 'process' ? item.name : item.kind}`);
      return id;
    },
    forget(id) {
      const item = items.get(id);
      if (item && items.delete(id)) history.push(`-${item.kind === 'process' ? item.name : item.kind}`);
    },
    list: () => [...items].map(([id, item]) => ({ id, item })),
  };
}

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-local-engine-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('agents that fail at start are reported even to a late listener, with their output in the log', async () => {
  const debris = memoryDebris();
  const launched = await localEngine.launch({ runId: 'r', count: 2, scenarioFile: path.join(dir, 'missing.scenario.json'), options: ['--coordinator', 'http://127.0.0.1:9', '--run-id', 'r', '--agents', '2', '--target', 'ws://127.0.0.1:9'], env: {}, logDir: dir, debris });
  try {
    expect(debris.history).toEqual(['+agent-0', '+agent-1']);
    for (let i = 0; i < 300 && debris.list().length > 0; i++) await sleep(100); // both have ended
    const ends: string[] = [];
    launched.onExit((index, how) => ends.push(`${index} ${how}`)); // listening only now
    // Each end carries the agent's own error line, so the run's errors say why without opening the log.
    expect(ends.sort()).toEqual([expect.stringMatching(/^0 exited with code 3 \(it said: .*missing\.scenario\.json/), expect.stringMatching(/^1 exited with code 3 \(it said: .*missing\.scenario\.json/)]);
    expect(fs.readFileSync(path.join(dir, 'agent-1.log'), 'utf8')).toMatch(/missing\.scenario\.json/);
    expect(debris.list()).toEqual([]);
    expect(launched.describe(0)).toMatch(/^pid \d+$/);
  } finally {
    await launched.stop();
  }
}, 60_000);

test('stop() ends running agents by pid and is safe to call twice', async () => {
  const debris = memoryDebris();
  // A coordinator that never answers: the agents keep retrying their hello (for up to 10 s).
  const launched = await localEngine.launch({ runId: 'r', count: 2, scenarioFile: path.join(__dirname, '..', '..', 'test', 'fixtures', 'counter-game', 'agents.scenario.ts'), options: ['--coordinator', 'http://127.0.0.1:9', '--run-id', 'r', '--agents', '2', '--target', 'ws://127.0.0.1:9', '--seed', '1'], env: {}, logDir: dir, debris });
  const ends: string[] = [];
  launched.onExit((index, how) => ends.push(`${index} ${how}`));
  // Once both have said hello, the CLI's signal handler is in place: SIGTERM means an orderly exit 143.
  const saidHello = (index: number): boolean => fs.existsSync(path.join(dir, `agent-${index}.log`)) && /: pid \d+,/.test(fs.readFileSync(path.join(dir, `agent-${index}.log`), 'utf8'));
  for (let i = 0; i < 300 && !(saidHello(0) && saidHello(1)); i++) await sleep(100);
  const started = Date.now();
  await Promise.all([launched.stop(), launched.stop()]);
  expect(Date.now() - started).toBeLessThan(9000);
  expect(ends).toHaveLength(2);
  expect(ends.sort()).toEqual(['0 exited with code 143', '1 exited with code 143']);
  expect(debris.list()).toEqual([]);
  expect(debris.history.sort()).toEqual(['+agent-0', '+agent-1', '-agent-0', '-agent-1']);
}, 60_000);
