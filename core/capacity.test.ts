import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { playerCeiling, playersOf, runCapacity, scaleBots, searchCapacity, type CapacityResult, type CapacityStep } from './capacity';
import { closedTargetPoints } from '../bots/fleet/workload';
import { validateScenario, type ScenarioCatalog } from './scenario/validate';
import { FaultRegistry } from '../chaos/registry';
import { getEngine } from '../agents/engines';
import type { GameDefinition } from './game';
import type { RunParts } from './parts';
import type { RunOptions } from './runner';
import type { RunSummary } from './summary';

const defaultCatalog: ScenarioCatalog = { game: 'test', profiles: ['casual', 'gifter', 'grinder'], defects: [], checkers: ['recovery'], faultTypes: [], validateFaultParams: () => ({ ok: true, params: {} }) };

const scenario = validateScenario(
  {
    name: 'mixed',
    duration: '10s',
    bots: {
      casual: { profile: 'casual', count: 6, ramp: '1s' },
      gifters: { profile: 'gifter', count: 3 },
      grinders: { profile: 'grinder', count: 1, stages: [{ duration: '5s', target: 1 }] },
      walkins: { profile: 'casual', arrival: { rate: 2, maxBots: 2 } },
    },
  },
  defaultCatalog,
);

describe('scaleBots', () => {
  it('keeps each group its share, hits the total exactly and scales stages and arrival rates too', () => {
    expect(playersOf(scenario)).toBe(12);
    const doubled = scaleBots(scenario, 24);
    expect(playersOf(doubled)).toBe(24);
    expect(doubled.bots.casual.count).toBe(12);
    expect(doubled.bots.gifters.count).toBe(6);
    expect(doubled.bots.grinders).toMatchObject({ count: 2, stages: [{ target: 2 }] });
    expect(doubled.bots.walkins.arrival).toMatchObject({ rate: 4, maxBots: 4 });
    for (const players of [4, 5, 7, 13, 101, 997]) expect(playersOf(scaleBots(scenario, players))).toBe(players);
  });

  it('never leaves a group empty, and says so when there are fewer players than groups', () => {
    const small = scaleBots(scenario, 4);
    expect(Object.values(small.bots).map((group) => group.count ?? group.arrival?.maxBots)).toEqual([1, 1, 1, 1]);
    expect(() => scaleBots(scenario, 3)).toThrow(/cannot spread 3 players over 4 bot groups: start at 4 or more/);
  });

  const groupsOf = (sizes: Record<string, number>, extra: Record<string, unknown> = {}) =>
    validateScenario({ name: 'g', duration: '20s', bots: Object.fromEntries(Object.entries(sizes).map(([name, count]) => [name, { profile: 'casual', count, ...extra }])) }, defaultCatalog);

  it('gives bots to the group furthest below its share and takes them from the one furthest above', () => {
    const counts = (s: ReturnType<typeof groupsOf>) => Object.fromEntries(Object.entries(s.bots).map(([name, group]) => [name, group.count]));
    expect(counts(scaleBots(groupsOf({ a: 18, b: 91, c: 91 }), 10))).toEqual({ a: 1, b: 5, c: 4 });
    const many = groupsOf({ a: 50, b: 49, ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`z${String(i).padStart(2, '0')}`, 1])) });
    const scaled = counts(scaleBots(many, 40));
    expect(Object.values(scaled).reduce((sum, n) => sum! + n!, 0)).toBe(40);
    expect(scaled.a).toBeGreaterThanOrEqual(scaled.b!);
    expect(scaled.b).toBeGreaterThanOrEqual(4);
  });

  it('scales stage targets with their group so they never exceed its count, and arrival stages as rates', () => {
    const staged = scaleBots(groupsOf({ a: 10, b: 10 }, { stages: [{ duration: '5s', target: 10 }, { duration: '5s', target: 3 }] }), 15);
    for (const [name, group] of Object.entries(staged.bots)) {
      expect(group.stages!.map((stage) => stage.target)).toEqual([group.count, expect.any(Number)]);
      expect(() => closedTargetPoints(group, name, 20_000)).not.toThrow();
    }
    const open = validateScenario({ name: 'o', duration: '20s', bots: { walkins: { profile: 'casual', arrival: { rate: 2, maxBots: 10, stages: [{ duration: '5s', target: 1 }] } } } }, defaultCatalog);
    expect(scaleBots(open, 4).bots.walkins.arrival).toMatchObject({ rate: 0.8, maxBots: 4, stages: [{ target: 0.4 }] });
  });

  it('is the scenario itself at its own size (the rest of it untouched)', () => {
    const same = scaleBots(scenario, 12);
    expect(same).toEqual(scenario);
  });
});

/** A backend whose SLOs hold up to `capacity` players; optional bug above `buggyFrom`. */
function fakeRunner(capacity: number, extra: { buggyFrom?: number; errorAt?: number } = {}) {
  const seen: number[] = [];
  const runStep = async (players: number): Promise<CapacityStep> => {
    seen.push(players);
    const step: CapacityStep = { players, verdict: 'pass', sloFailures: [], safetyFailures: [], errors: [], actionsPerSecond: players, runDir: `runs/${players}`, seconds: 1 };
    if (extra.errorAt === players) return { ...step, verdict: 'error', errors: ['the load generator saturated'] };
    if (extra.buggyFrom !== undefined && players >= extra.buggyFrom) return { ...step, verdict: 'fail', safetyFailures: ['conservation: 40 gold created'] };
    return players <= capacity ? step : { ...step, verdict: 'fail', sloFailures: ['SLO action_rtt[run] p(99)<50ms: observed 80'] };
  };
  return { runStep, seen };
}

describe('searchCapacity', () => {
  const options = { start: 10, min: 1, max: 5000, maxSteps: 20 };

  it('doubles until the SLOs break, then bisects to the resolution', async () => {
    const { runStep, seen } = fakeRunner(137);
    const result = await searchCapacity(runStep, { ...options, resolution: 1 });
    expect(result).toMatchObject({ outcome: 'found', maxPassing: 137, firstFailing: 138, exitCode: 0 });
    expect(seen.slice(0, 7)).toEqual([10, 20, 40, 80, 160, 120, 140]);
    expect(seen.length).toBeLessThan(14);
    expect(result.summary).toBe('capacity: 137 players (SLOs hold); they break at 138');
  });

  it('stops within 5 % by default, and fails a --require above what it found', async () => {
    const found = await searchCapacity(fakeRunner(137).runStep, options);
    expect(found.outcome).toBe('found');
    expect(found.firstFailing! - found.maxPassing!).toBeLessThanOrEqual(Math.max(1, Math.floor(found.maxPassing! * 0.05)));
    expect(found.maxPassing).toBeLessThanOrEqual(137);
    const required = await searchCapacity(fakeRunner(137).runStep, { ...options, require: 200 });
    expect(required).toMatchObject({ outcome: 'found', exitCode: 1 });
    expect(required.summary).toMatch(/below the required 200$/);
  });

  it('walks down when the start already fails, and reports none when even the minimum fails', async () => {
    const down = await searchCapacity(fakeRunner(3).runStep, { ...options, resolution: 1 });
    expect(down).toMatchObject({ outcome: 'found', maxPassing: 3, firstFailing: 4 });
    const none = await searchCapacity(fakeRunner(0).runStep, options);
    expect(none).toMatchObject({ outcome: 'none', exitCode: 1 });
    expect(none.steps.map((step) => step.players)).toEqual([10, 5, 2, 1]);
  });

  it('says "at least" when --max still passes', async () => {
    const result = await searchCapacity(fakeRunner(10_000).runStep, { ...options, max: 100 });
    expect(result).toMatchObject({ outcome: 'at-least-max', maxPassing: 100, exitCode: 0 });
    expect(result.steps.map((step) => step.players)).toEqual([10, 20, 40, 80, 100]);
  });

  it('stops at a safety failure (a bug, not a limit) and at an undecided step', async () => {
    const bug = await searchCapacity(fakeRunner(137, { buggyFrom: 40 }).runStep, options);
    expect(bug).toMatchObject({ outcome: 'bug', exitCode: 1 });
    expect(bug.summary).toMatch(/at 40 players a safety check failed \(conservation: 40 gold created\): a bug under load/);
    const error = await searchCapacity(fakeRunner(137, { errorAt: 80 }).runStep, options);
    expect(error).toMatchObject({ outcome: 'error', exitCode: 2, maxPassing: 40 });
    expect(error.summary).toMatch(/the load generator saturated/);
  });

  it('gives up after --max-steps with the bounds it had; a --require already met still passes the gate', async () => {
    const result = await searchCapacity(fakeRunner(137).runStep, { ...options, resolution: 1, maxSteps: 7 });
    expect(result).toMatchObject({ outcome: 'steps-exhausted', exitCode: 2, maxPassing: 120, firstFailing: 140 });
    const gated = await searchCapacity(fakeRunner(137).runStep, { ...options, resolution: 1, maxSteps: 7, require: 100 });
    expect(gated).toMatchObject({ outcome: 'steps-exhausted', exitCode: 0 });
    expect(gated.summary).toMatch(/meets the required 100$/);
  });

  it('does not bisect on a failed step that also had a harness error (the failure is not trustworthy)', async () => {
    const { runStep } = fakeRunner(30);
    const withError = async (players: number) => {
      const step = await runStep(players);
      return players === 40 ? { ...step, errors: ['fault f1 (backend-crash) did not heal'] } : step;
    };
    const result = await searchCapacity(withError, options);
    expect(result).toMatchObject({ outcome: 'error', exitCode: 2, maxPassing: 20 });
    expect(result.summary).toMatch(/at 40 players the run could not decide \(fault f1 \(backend-crash\) did not heal\)/);
  });
});

describe('playerCeiling', () => {
  const groups = (sizes: Record<string, number>) =>
    validateScenario({ name: 'g', duration: '20s', bots: Object.fromEntries(Object.entries(sizes).map(([name, count]) => [name, { profile: 'casual', count }])) }, defaultCatalog);

  it('is 20 000 players per machine: N agents run N times as many', () => {
    const two = groups({ a: 10, b: 10 });
    expect(playerCeiling(two)).toEqual({ players: 20_000, reason: { kind: 'machines', agents: 1 } });
    expect(playerCeiling(two, 2)).toEqual({ players: 40_000, reason: { kind: 'machines', agents: 2 } });
  });

  it('stops where one bot group would pass the schema\'s 20 000 bots per group, whatever the agents', () => {
    expect(playerCeiling(groups({ solo: 4 }), 2)).toEqual({ players: 20_000, reason: { kind: 'group', group: 'solo' } });
    expect(playerCeiling(groups({ a: 10, b: 10 }), 3)).toEqual({ players: 40_000, reason: { kind: 'group', group: 'a' } });
    // 3:1 shares: the big group holds 20 000 of 26 667 players (the odd bot goes to the small one), 20 001 of 26 668.
    const uneven = groups({ big: 3, small: 1 });
    const ceiling = playerCeiling(uneven, 2);
    expect(ceiling).toEqual({ players: 26_667, reason: { kind: 'group', group: 'big' } });
    expect(scaleBots(uneven, ceiling.players).bots.big.count).toBeLessThanOrEqual(20_000);
    expect(scaleBots(uneven, ceiling.players + 1).bots.big.count).toBeGreaterThan(20_000);
  });
});

describe('runCapacity with --agents', () => {
  const game = { name: 'fake', description: 'a game that is never played', profiles: { casual: {} }, actions: {} } as unknown as GameDefinition;
  const parts = {
    games: { names: () => ['fake'], resolve: () => '/fake/game.ts', load: () => game },
    faults: new FaultRegistry(),
    engine: getEngine,
  } as unknown as RunParts;
  let dir: string;
  let scenarioFile: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-capacity-unit-'));
    scenarioFile = path.join(dir, 'two-groups.json');
    fs.writeFileSync(scenarioFile, JSON.stringify({ name: 'two-groups', game: 'fake', duration: '5s', bots: { a: { profile: 'casual', count: 3 }, b: { profile: 'casual', count: 1 } } }));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Records each step's run options; SLOs hold up to `capacity` players. */
  function fakeRuns(capacity: number) {
    const calls: RunOptions[] = [];
    const runScenario = async (options: RunOptions): Promise<RunSummary> => {
      calls.push(options);
      const players = Object.values((options.scenarioInput as { bots: Record<string, { count: number }> }).bots).reduce((sum, group) => sum + group.count, 0);
      const pass = players <= capacity;
      return {
        runId: `r${players}`, scenario: 'two-groups', seed: 1, verdict: pass ? 'pass' : 'fail', exitCode: pass ? 0 : 1, startedAt: '', finishedAt: '', durationMs: 1, runDir: path.join(dir, `r${players}`),
        checks: [], slos: pass ? [] : [{ metric: 'action_rtt', phase: 'run', limit: 'p(99)<50ms', observed: 80, unit: 'ms', ok: false, samples: 10 }], faults: [],
        stats: { bots: players, actions: { invoked: 1, ok: 1, fail: 0, info: 0 }, actionsPerSecond: 1, latency: {}, latencyByPhase: {}, reconnects: 0, desyncs: 0, gaveUp: 0, droppedArrivals: 0, loadGenerator: { cpuPeakRatio: 0, eventLoopLagP99Ms: 0, saturated: false } },
        errors: [], artifacts: {},
      };
    };
    return { calls, runScenario };
  }

  it('runs every step as the N agents, and capacity.json and capacity.md say so', async () => {
    const { calls, runScenario } = fakeRuns(10);
    const lines: string[] = [];
    const result = await runCapacity({ scenarioFile, seed: 1, outDir: dir, start: 4, resolution: 1, agents: { count: 2, engine: 'local' }, runScenario, print: (line) => lines.push(line) }, parts);
    expect(result).toMatchObject({ outcome: 'found', maxPassing: 10, firstFailing: 11, agents: { count: 2, engine: 'local' } });
    expect(calls.length).toBe(result.steps.length);
    for (const call of calls) expect(call.agents).toEqual({ count: 2, engine: 'local' });
    expect(lines[0]).toBe('capacity: running 4 players as 2 agents (local)…');
    const json = JSON.parse(fs.readFileSync(path.join(result.dir, 'capacity.json'), 'utf8')) as CapacityResult;
    expect(json.agents).toEqual({ count: 2, engine: 'local' });
    expect(fs.readFileSync(path.join(result.dir, 'capacity.md'), 'utf8')).toContain("Every step's bots ran as 2 agents (engine local).");
  });

  it('without --agents runs each step in one process and says that', async () => {
    const { calls, runScenario } = fakeRuns(10);
    const result = await runCapacity({ scenarioFile, seed: 1, outDir: dir, start: 4, max: 8, runScenario }, parts);
    expect(calls.map((call) => call.agents)).toEqual([undefined, undefined]);
    expect(result.agents).toBeUndefined();
    expect(fs.readFileSync(path.join(result.dir, 'capacity.md'), 'utf8')).toContain("Every step's bots ran in one process (no --agents).");
  });

  it('lets --max reach 20 000 players per agent, and no further', async () => {
    const { calls, runScenario } = fakeRuns(10);
    const twoAgents = { count: 2, engine: 'local' };
    await expect(runCapacity({ scenarioFile, seed: 1, outDir: dir, start: 4, max: 25_000, maxSteps: 1, runScenario }, parts)).rejects.toThrow(
      "--max 25000 is above 20000 bots, the most one machine's fleet runs; lower it, or spread the bots over agents with --agents N",
    );
    expect(calls).toEqual([]);
    const allowed = await runCapacity({ scenarioFile, seed: 1, outDir: dir, start: 4, max: 25_000, maxSteps: 1, agents: twoAgents, runScenario }, parts);
    expect(allowed.steps.map((step) => step.players)).toEqual([4]);
    // Group a holds 3 of every 4 players: past 26 667 it would have more than the 20 000 a group may have.
    await expect(runCapacity({ scenarioFile, seed: 1, outDir: dir, start: 4, max: 30_000, agents: twoAgents, runScenario }, parts)).rejects.toThrow(
      '--max 30000 would give bot group "a" more than 20000 bots, the most one group may have; lower --max to 26667 or split the group in the scenario',
    );
    const evenFile = path.join(dir, 'even.json');
    fs.writeFileSync(evenFile, JSON.stringify({ name: 'even', game: 'fake', duration: '5s', bots: { a: { profile: 'casual', count: 2 }, b: { profile: 'casual', count: 2 } } }));
    await expect(runCapacity({ scenarioFile: evenFile, seed: 1, outDir: dir, start: 4, max: 40_001, agents: twoAgents, runScenario }, parts)).rejects.toThrow(
      '--max 40001 is above 40000 bots (20000 per agent × 2 agents); lower it or add agents',
    );
  });

  it('refuses a bad agent count or engine before it creates anything', async () => {
    const { calls, runScenario } = fakeRuns(10);
    const out = path.join(dir, 'runs');
    await expect(runCapacity({ scenarioFile, outDir: out, agents: { count: 2, engine: 'mesos' }, runScenario }, parts)).rejects.toThrow(/--engine: unknown engine "mesos"; choose one of: local/);
    await expect(runCapacity({ scenarioFile, outDir: out, agents: { count: 0, engine: 'local' }, runScenario }, parts)).rejects.toThrow('--agents must be between 1 and 64, not 0');
    expect(calls).toEqual([]);
    expect(fs.existsSync(out)).toBe(false);
  });
});
