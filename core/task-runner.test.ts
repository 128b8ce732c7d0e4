import { runTasks, type Task } from './task-runner';

type Log = string[];
const task = (title: string, fail?: 'setup' | 'teardown'): Task<Log> => ({
  title,
  setup(log) {
    log.push(`setup ${title}`);
    if (fail === 'setup') throw new Error(`${title} broke`);
  },
  teardown(log) {
    log.push(`teardown ${title}`);
    if (fail === 'teardown') throw new Error(`${title} teardown broke`);
  },
});

test('teardowns run in reverse after every setup succeeded', async () => {
  const log: Log = [];
  const result = await runTasks([task('a'), task('b'), task('c')], log);
  expect(log).toEqual(['setup a', 'setup b', 'setup c', 'teardown c', 'teardown b', 'teardown a']);
  expect(result).toEqual({ errors: [], completed: ['a', 'b', 'c'], aborted: false });
});

test('a failing setup stops the setups; its own teardown and the earlier ones still run', async () => {
  const log: Log = [];
  const result = await runTasks([task('a'), task('b', 'setup'), task('c')], log);
  expect(log).toEqual(['setup a', 'setup b', 'teardown b', 'teardown a']);
  expect(result.errors.map((e) => `${e.task}/${e.phase}`)).toEqual(['b/setup']);
  expect(result.completed).toEqual(['a']);
});

test('a failing teardown does not skip the others', async () => {
  const log: Log = [];
  const result = await runTasks([task('a'), task('b', 'teardown'), task('c')], log);
  expect(log.slice(3)).toEqual(['teardown c', 'teardown b', 'teardown a']);
  expect(result.errors.map((e) => `${e.task}/${e.phase}`)).toEqual(['b/teardown']);
});

test('an abort during a setup starts no further task and tears down what began', async () => {
  const controller = new AbortController();
  const log: Log = [];
  const aborting: Task<Log> = { title: 'b', setup: (l) => void (l.push('setup b'), controller.abort()), teardown: (l) => void l.push('teardown b') };
  const result = await runTasks([task('a'), aborting, task('c')], log, { signal: controller.signal, beforeTeardown: () => log.push('wind down') });
  expect(log).toEqual(['setup a', 'setup b', 'wind down', 'teardown b', 'teardown a']);
  expect(result.aborted).toBe(true);
});

test('a throwing beforeTeardown is recorded and every teardown still runs', async () => {
  const log: Log = [];
  const result = await runTasks([task('a'), task('b')], log, {
    beforeTeardown: () => {
      throw new Error('listener broke');
    },
  });
  expect(log).toEqual(['setup a', 'setup b', 'teardown b', 'teardown a']);
  expect(result.errors.map((e) => `${e.task}/${e.phase}: ${(e.error as Error).message}`)).toEqual(['before teardown/teardown: listener broke']);
});
