/**
 * `lagstorm capacity` through the real binary and real stacks: the SLO is a PromQL query on the
 * backend's own sessions gauge, so where it breaks is known (10 players) and the search must find it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli';

describe('lagstorm capacity (real stacks)', () => {
  let dir: string;
  let scenarioFile: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-capacity-'));
    scenarioFile = path.join(dir, 'sessions.json');
    fs.writeFileSync(
      scenarioFile,
      JSON.stringify({
        name: 'sessions-cap',
        duration: '4s',
        recovery: { window: '1s' },
        bots: { grinders: { profile: 'grinder', count: 4, ramp: '500ms' } },
        checks: ['conservation', 'exactly-once'],
        slos: { prometheus: { sessions: { query: 'max(game_sessions_online)', run: 'max<10' } } },
      }),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('doubles, then bisects to where the SLO breaks, and writes capacity.json, capacity.md and a run per step', async () => {
    const out = path.join(dir, 'runs');
    const result = await runCli(['capacity', scenarioFile, '--start', '4', '--resolution', '2', '--seed', '1', '--out', out], { timeoutMs: 300_000 });
    if (result.code !== 0) console.error(result.stdout, result.stderr);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/capacity: 8 players \(SLOs hold\); they break at 10/);
    const [capacityDir] = fs.readdirSync(out).filter((name) => name.startsWith('capacity-'));
    const report = JSON.parse(fs.readFileSync(path.join(out, capacityDir, 'capacity.json'), 'utf8'));
    expect(report).toMatchObject({ outcome: 'found', maxPassing: 8, firstFailing: 10, seed: 1, exitCode: 0 });
    expect(report.steps.map((step: { players: number; verdict: string }) => `${step.players}:${step.verdict}`)).toEqual(['4:pass', '8:pass', '16:fail', '12:fail', '10:fail']);
    expect(report.steps[2].sloFailures).toEqual([expect.stringMatching(/^SLO prometheus:sessions\[run\] max<10: observed 16$/)]);
    for (const step of report.steps as Array<{ players: number; runDir: string }>) {
      const scenario = JSON.parse(fs.readFileSync(path.join(step.runDir, 'scenario.json'), 'utf8'));
      expect(scenario.bots.grinders.count).toBe(step.players);
      expect(scenario.seed).toBe(1);
    }
    expect(fs.readFileSync(path.join(out, capacityDir, 'capacity.md'), 'utf8')).toMatch(/\| 16 \| fail \|/);
  }, 330_000);

  it.each([
    [['--start', '0'], /--start 0 is below one bot per group \(1 groups\)/],
    [['--start', '50', '--max', '20'], /--start 50 is above --max 20/],
    [['--resolution', '0'], /--resolution must be at least 1 player/],
    [['--max', '50000'], /--max 50000 is above 20000 bots/],
    [['--require', '100', '--max', '50'], /--require 100 is above --max 50, so it could never be shown/],
    [['--engine', 'local'], /--engine only applies with --agents <n>; add one \(e\.g\. --agents 4\) or drop it/],
    [['--agents', '2', '--engine', 'mesos'], /--engine: unknown engine "mesos"; choose one of: local/],
    [['--agents', '2', '--max', '50000'], /--max 50000 would give bot group "grinders" more than 20000 bots, the most one group may have; lower --max to 20000/],
  ])('bad flags %j: exit 3, a message naming the flag, and nothing run', async (flags, message) => {
    const out = path.join(dir, 'bad-runs');
    const result = await runCli(['capacity', scenarioFile, ...flags, '--out', out], { timeoutMs: 60_000 });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(message);
    expect(fs.existsSync(out)).toBe(false);
  });
});
