/**
 * `lagstorm capacity --agents 2 --engine local` through the real CLI and real stacks (the counter
 * test game): every step's run plays its bots as two agents whose bots add up to the step's players.
 * Two short steps (2 then 4 players, --max 4): the search ends "at least --max" after both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CapacityResult } from '../core/capacity';
import type { RunSummary } from '../core/summary';
import { runCli } from './run-cli';

// Its bots act until the run ends, so at 1 or 2 bots per agent they are still connected when the latency fault heals (it must bite).
const COUNTER_SCENARIO = path.join('test', 'fixtures', 'counter-game', 'counter.scenario.ts');

let out: string;
beforeAll(() => (out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-capacity-agents-'))));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

test('each step runs its bots as 2 agents that share out exactly its players, and the report says so', async () => {
  const result = await runCli(['capacity', COUNTER_SCENARIO, '--agents', '2', '--engine', 'local', '--max-steps', '2', '--start', '2', '--max', '4', '--seed', '11', '--out', out], { timeoutMs: 240_000 });
  if (result.code !== 0) console.error(result.stdout, result.stderr);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('capacity: running 2 players as 2 agents (local)…');

  const [capacityDir] = fs.readdirSync(out).filter((name) => name.startsWith('capacity-'));
  const report = JSON.parse(fs.readFileSync(path.join(out, capacityDir, 'capacity.json'), 'utf8')) as CapacityResult;
  expect(report).toMatchObject({ outcome: 'at-least-max', maxPassing: 4, agents: { count: 2, engine: 'local' } });
  expect(report.steps.map((step) => step.players)).toEqual([2, 4]);
  for (const step of report.steps) {
    const summary = JSON.parse(fs.readFileSync(path.join(step.runDir, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.agents?.map((agent) => [agent.index, agent.state])).toEqual([
      [0, 'done'],
      [1, 'done'],
    ]);
    expect(summary.agents!.reduce((sum, agent) => sum + agent.bots, 0)).toBe(step.players);
  }
  expect(fs.readFileSync(path.join(out, capacityDir, 'capacity.md'), 'utf8')).toContain("Every step's bots ran as 2 agents (engine local).");
}, 270_000);
