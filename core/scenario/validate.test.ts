import { z } from 'zod';
import { InvalidInputError } from '../exit-codes';
import type { ScenarioInput } from './schema';
import { validateScenario, type ScenarioCatalog } from './validate';

const latencyParams = z.strictObject({ link: z.enum(['bots-backend', 'backend-db']).default('bots-backend'), latency: z.number().int().positive() });
const catalog: ScenarioCatalog = {
  game: 'reference',
  profiles: ['casual', 'grinder', 'gifter', 'churner'],
  defects: ['no-dedup', 'ack-before-commit'],
  faultTypes: ['latency'],
  checkers: ['acked-durable', 'conservation', 'no-desync', 'recovery'],
  validateFaultParams(type, params) {
    const result = latencyParams.safeParse(params);
    return result.success ? { ok: true, params: result.data } : { ok: false, issues: result.error.issues.map((i) => ({ path: i.path, message: i.message })) };
  },
};

const valid: ScenarioInput = {
  name: 'smoke',
  duration: '20s',
  bots: { players: { profile: 'casual', count: 10, ramp: '2s' } },
  faults: { timeline: [{ at: '5s', duration: '5s', fault: 'latency', params: { latency: 100 } }] },
  slos: { action_rtt: { baseline: 'p(99)<50ms', fault: 'p(99)<500ms' }, time_to_recover: '<10s' },
};

function problemsOf(input: unknown): string[] {
  try {
    validateScenario(input, catalog);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).issues;
  }
  throw new Error('expected the scenario to be invalid');
}

const withChange = (change: (s: Record<string, unknown>) => void): unknown => {
  const copy = structuredClone(valid) as Record<string, unknown>;
  change(copy);
  return copy;
};

describe('validateScenario', () => {
  it('accepts a valid scenario, fills defaults and turns durations into ms', () => {
    const scenario = validateScenario(valid, catalog);
    expect(scenario.duration).toBe(20_000);
    expect(scenario.runtime).toBe('process');
    expect(scenario.recovery).toEqual({ window: 10_000, reconnectWithin: 10_000 });
    expect(scenario.faults.timeline[0]).toMatchObject({ at: 5000, duration: 5000 });
    expect(scenario.faults.ifNoEffect).toBe('error'); // a fault that did not bite is an error unless the scenario says 'warn'
    expect(scenario.checks).toContain('conservation');
    expect(scenario.bots.players).toMatchObject({ count: 10, ramp: 2000, ipv6: false });
  });

  // Each row: a distinct mistake, the path it must be reported at, and words the hint must hold.
  const mistakes: Array<[string, (s: Record<string, unknown>) => void, string, RegExp]> = [
    ['missing name', (s) => delete s.name, 'name:', /required/],
    ['name with spaces', (s) => (s.name = 'My Scenario'), 'name:', /lowercase/],
    ['unknown top-level field', (s) => (s.durration = '10s'), '(scenario):', /unknown field "durration"/],
    ['missing duration', (s) => delete s.duration, 'duration:', /required/],
    ['negative duration', (s) => (s.duration = -5), 'duration:', /non-negative/],
    ['duration without unit', (s) => (s.duration = '10 seconds'), 'duration:', /not a duration/],
    ['zero duration', (s) => (s.duration = '0s'), 'duration:', /longer than 0/],
    ['seed is not an integer', (s) => (s.seed = 1.5), 'seed:', /int/],
    ['seed is a string', (s) => (s.seed = 'abc'), 'seed:', /expected number, got the string "abc"/],
    ['bot count is a string', (s) => ((s.bots as Record<string, Record<string, unknown>>).players.count = 'ten'), 'bots.players.count:', /expected number, got the string "ten"/],
    ['bot count is zero', (s) => ((s.bots as Record<string, Record<string, unknown>>).players.count = 0), 'bots.players.count:', />0|positive|>= ?1|greater/i],
    ['unknown bot profile', (s) => ((s.bots as Record<string, Record<string, unknown>>).players.profile = 'speedrunner'), 'bots.players.profile:', /unknown profile "speedrunner".*casual/],
    ['no bot groups', (s) => (s.bots = {}), 'bots:', /at least one bot group/],
    ['both closed and open model', (s) => ((s.bots as Record<string, Record<string, unknown>>).players.arrival = { rate: 5, maxBots: 10 }), 'bots.players:', /exactly one of `count`/],
    ['unknown field in a bot group', (s) => ((s.bots as Record<string, Record<string, unknown>>).players.bots = 5), 'bots.players:', /unknown field "bots"/],
    ['unknown runtime', (s) => (s.runtime = 'kubernetes'), 'runtime:', /"process", "containers"/],
    ['unknown fault', (s) => ((s.faults as { timeline: Array<Record<string, unknown>> }).timeline[0].fault = 'meteor'), 'faults.timeline[0].fault:', /unknown fault "meteor".*latency/],
    ['bad fault param', (s) => ((s.faults as { timeline: Array<Record<string, unknown>> }).timeline[0].params = { latency: -1 }), 'faults.timeline[0].params.latency:', />0|positive|too small/i],
    ['fault outlasts the scenario', (s) => ((s.faults as { timeline: Array<Record<string, unknown>> }).timeline[0].duration = '30s'), 'faults.timeline[0].duration:', /after the scenario's duration/],
    ['malformed SLO', (s) => (s.slos = { action_rtt: { baseline: 'p99 under 50' } }), 'slos.action_rtt', /SLO expression|accepted form/],
    ['SLO stat that does not fit the metric', (s) => (s.slos = { action_rtt: { fault: 'rate<1%' } }), 'slos.action_rtt.fault:', /is a time/],
    ['giftTo an unknown group', (s) => ((s.bots as Record<string, Record<string, unknown>>).players.giftTo = 'whales'), 'bots.players.giftTo:', /"whales" is not a closed-model bot group; use one of: players/],
    ['unknown SLO metric', (s) => (s.slos = { fps: 'avg<16ms' }), 'slos:', /unknown field "fps"/],
    ['unknown checker', (s) => (s.checks = ['acked-durable', 'linearizable']), 'checks[1]:', /must be one of/],
    ['unknown defect', (s) => (s.backend = { defect: 'typo-defect' }), 'backend.defect:', /unknown defect "typo-defect"/],
    ['ifNoEffect is neither error nor warn', (s) => ((s.faults as Record<string, unknown>).ifNoEffect = 'ignore'), 'faults.ifNoEffect:', /"error".*exit 2.*"warn"/],
  ];

  it.each(mistakes)('reports %s at its path with a hint', (_label, change, path, hint) => {
    const problems = problemsOf(withChange(change));
    const match = problems.find((p) => p.trim().startsWith(path));
    expect(match).toBeDefined();
    expect(match).toMatch(hint);
  });

  it('reports every problem at once, not just the first', () => {
    const problems = problemsOf(
      withChange((s) => {
        s.name = 'Bad Name';
        s.duration = '-1s';
        s.colour = 'red';
        (s.bots as Record<string, Record<string, unknown>>).players.profile = 'nope';
      }),
    );
    expect(problems.length).toBeGreaterThanOrEqual(4);
  });

  it("takes a backend image for the containers runtime, with its readiness and extra services, and names a bad field's path", () => {
    const scenario = validateScenario({ ...valid, backend: { image: 'studio/game:1.4', command: ['--port', '{{ports.ws}}'], ready: { log: 'listening', timeout: '30s' }, services: [{ name: 'redis', image: 'redis:7', ready: { port: 'ws' } }] } }, catalog);
    expect(scenario.backend).toMatchObject({ image: 'studio/game:1.4', ready: { log: 'listening', timeout: 30_000 }, services: [{ name: 'redis', image: 'redis:7' }] });
    expect(problemsOf({ ...valid, backend: { services: [{ name: 'redis', image: 'redis:7', ports: [6379] }] } })).toEqual([expect.stringMatching(/^ {2}backend\.services\[0\]: unknown field "ports"/)]);
    expect(problemsOf({ ...valid, backend: { ready: { http: 'readyz' } } })).toEqual([expect.stringMatching(/^ {2}backend\.ready\.http: .*an HTTP path, e.g. "\/readyz"/)]);
  });

  it('rejects something that is not an object', () => {
    expect(problemsOf('smoke')[0]).toMatch(/expected object/);
  });
});

describe('faults that would undo each other', () => {
  // The real registry: its faults declare what they hold alone (a PostgreSQL setting, a process).
  const { catalogFor } = jest.requireActual<typeof import('./catalog')>('./catalog');
  const { defaultRegistry } = jest.requireActual<typeof import('../../chaos/registry')>('../../chaos/registry');
  const defaultCatalog = catalogFor({ name: 'reference', description: '', client: () => ({ connect: () => Promise.reject(new Error('unused')) }), actions: {}, profiles: { casual: { name: 'casual', description: '', mix: [], thinkTime: { kind: 'never' }, sessionLength: { kind: 'never' }, offlineTime: { kind: 'never' } } } }, defaultRegistry);
  const timeline = (...steps: Array<[at: string, duration: string, fault: string]>) => ({
    ...valid,
    duration: '60s',
    faults: { timeline: steps.map(([at, duration, fault]) => ({ at, duration, fault, params: {} })) },
  });
  const problems = (input: unknown): string[] => {
    try {
      validateScenario(input, defaultCatalog);
      return [];
    } catch (error) {
      return (error as InvalidInputError).issues.map((issue) => issue.trim());
    }
  };

  it('rejects two overlapping faults on the same PostgreSQL setting or process, naming the step, the lock and the fix', () => {
    expect(problems(timeline(['5s', '10s', 'checkpoint-storm'], ['8s', '5s', 'checkpoint-storm']))).toEqual([
      'faults.timeline[1]: overlaps faults.timeline[0] (checkpoint-storm at 5000ms for 10000ms) and both hold postgres setting max_wal_size, so one heal would undo the other fault; start it at or after 15000ms',
    ]);
    // The step that starts later is the one to move, whatever its index.
    expect(problems(timeline(['5s', '10s', 'backend-pause'], ['2s', '4s', 'backend-crash']))).toEqual([
      'faults.timeline[0]: overlaps faults.timeline[1] (backend-crash at 2000ms for 4000ms) and both hold the backend process, so one heal would undo the other fault; start it at or after 6000ms',
    ]);
    expect(problems(timeline(['5s', '5s', 'link-down'], ['8s', '5s', 'link-down']))).toEqual([expect.stringMatching(/^faults\.timeline\[1\]: .*the bots-backend proxy's on\/off switch/)]);
  });

  it('accepts the same faults one after the other, and overlapping faults on different things', () => {
    expect(problems(timeline(['5s', '10s', 'checkpoint-storm'], ['15s', '5s', 'checkpoint-storm']))).toEqual([]);
    expect(problems(timeline(['5s', '10s', 'backend-crash'], ['6s', '5s', 'postgres-crash'], ['7s', '2s', 'failing-archiver']))).toEqual([]);
  });
});

describe('target', () => {
  it('accepts a loopback ws or http backend with an admin URL', () => {
    expect(validateScenario({ ...valid, target: { url: 'ws://127.0.0.1:9000/game', adminUrl: 'http://[::1]:9001' } }, catalog).target).toEqual({ url: 'ws://127.0.0.1:9000/game', adminUrl: 'http://[::1]:9001' });
    expect(validateScenario({ ...valid, target: { url: 'http://localhost:8080' } }, catalog).target).toEqual({ url: 'http://localhost:8080' });
  });

  it('refuses a host that is not loopback, another scheme and a non-URL, naming the field', () => {
    expect(problemsOf({ ...valid, target: { url: 'ws://10.0.0.5:9000', adminUrl: 'ftp://127.0.0.1' } })).toEqual([
      expect.stringMatching(/^ {2}target\.url: host "10\.0\.0\.5" is not loopback: lagstorm only sends traffic to 127\.0\.0\.1, \[::1\] or localhost/),
      expect.stringMatching(/^ {2}target\.adminUrl: must start with http:\/\/, https:\/\/, not ftp:\/\//),
    ]);
    expect(problemsOf({ ...valid, target: { url: 'game-server:9000' } })).toEqual([expect.stringMatching(/target\.url: (not a URL|must start with)/)]);
    expect(problemsOf({ ...valid, target: { adminUrl: 'http://127.0.0.1:1' } })).toEqual([expect.stringMatching(/target\.url: required/)]);
  });
});
