/**
 * Invalid scenarios through the real CLI: each mistake exits 3 and names the field's path.
 * (core/scenario/validate.test.ts covers the same mistakes and more at the function level.)
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, '..', 'bin', 'lagstorm.js');

const valid = {
  name: 'ok',
  duration: '10s',
  bots: { players: { profile: 'casual', count: 4 } },
  faults: { timeline: [{ at: '2s', duration: '2s', fault: 'latency', params: { latency: 100 } }] },
};

type Mutation = (s: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any -- scenarios are mutated freely here

const mistakes: Array<[string, Mutation, RegExp]> = [
  ['missing name', (s) => delete s.name, /^ {2}name: required/m],
  ['bad name', (s) => (s.name = 'Has Spaces'), /^ {2}name: use lowercase/m],
  ['unknown field', (s) => (s.bogus = 1), /^ {2}\(scenario\): unknown field "bogus"/m],
  ['negative duration', (s) => (s.duration = '-5s'), /^ {2}duration: "-5s" is not a duration/m],
  ['zero duration', (s) => (s.duration = 0), /^ {2}duration: must be longer than 0/m],
  ['seed not integer', (s) => (s.seed = 2.5), /^ {2}seed: expected int/m],
  ['count wrong type', (s) => (s.bots.players.count = 'four'), /^ {2}bots\.players\.count: expected number, got the string "four"/m],
  ['count negative', (s) => (s.bots.players.count = -1), /^ {2}bots\.players\.count: /m],
  ['unknown profile', (s) => (s.bots.players.profile = 'afk'), /^ {2}bots\.players\.profile: unknown profile "afk"/m],
  ['both workload models', (s) => (s.bots.players.arrival = { rate: 1, maxBots: 2 }), /^ {2}bots\.players: set exactly one of `count`/m],
  ['unknown fault', (s) => (s.faults.timeline[0].fault = 'tornado'), /^ {2}faults\.timeline\[0\]\.fault: unknown fault "tornado"/m],
  ['bad fault param', (s) => (s.faults.timeline[0].params = { latency: 'slow' }), /^ {2}faults\.timeline\[0\]\.params\.latency: /m],
  ['unknown fault param', (s) => (s.faults.timeline[0].params = { latency: 100, lag: 5 }), /^ {2}faults\.timeline\[0\]\.params: .*lag/m],
  ['fault past the end', (s) => (s.faults.timeline[0].at = '9s'), /^ {2}faults\.timeline\[0\]\.duration: the fault ends at 11000ms/m],
  ['bad SLO', (s) => (s.slos = { action_rtt: 'fast please' }), /^ {2}slos\.action_rtt: "fast please" is not an SLO expression/m],
  ['SLO stat for wrong metric', (s) => (s.slos = { error_rate: 'p(99)<5ms' }), /^ {2}slos\.error_rate: error_rate takes/m],
  ['unknown check', (s) => (s.checks = ['linearizable']), /^ {2}checks\[0\]: must be one of/m],
  ['unknown defect', (s) => (s.backend = { defect: 'segfault' }), /^ {2}backend\.defect: unknown defect "segfault"/m],
  ['bad runtime', (s) => (s.runtime = 'vm'), /^ {2}runtime: must be one of "process", "containers"/m],
  ['client timeout negative', (s) => (s.client = { pongTimeout: '-1s' }), /^ {2}client\.pongTimeout: /m],
];

describe('lagstorm validate on invalid scenarios', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-validate-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(mistakes)('%s: exit 3 and the path of the field', async (label, mutate, expected) => {
    const scenario = structuredClone(valid) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- see Mutation
    mutate(scenario);
    const file = path.join(dir, `${label.replace(/\W+/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify(scenario));
    const failure = await exec(process.execPath, [CLI, 'validate', file]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(3);
    expect(failure?.stderr).toMatch(expected);
  });

  it('a valid scenario validates (exit 0) and prints it resolved', async () => {
    const file = path.join(dir, 'valid.json');
    fs.writeFileSync(file, JSON.stringify(valid));
    const { stdout } = await exec(process.execPath, [CLI, 'validate', file]);
    expect(JSON.parse(stdout)).toMatchObject({ name: 'ok', duration: 10_000, runtime: 'process' });
  });
});
