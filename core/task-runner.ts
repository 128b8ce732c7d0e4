/**
 * A run as a list of tasks (Playwright's taskRunner): setups run in order until one fails or the
 * signal aborts; then the teardowns of every task whose setup began run in reverse, whatever
 * happened. Errors are collected, never thrown, so one failing teardown never skips the others.
 */
export interface Task<Context> {
  title: string;
  /** Brings the task up (or does its work); may read what earlier tasks put in the context. */
  setup?(context: Context, signal: AbortSignal): Promise<void> | void;
  /** Undoes the setup; runs even when the setup failed half-way, so it must cope with partial state. */
  teardown?(context: Context): Promise<void> | void;
}

export interface TaskRunResult {
  /** `title: message` of each failed setup or teardown, in the order they happened. */
  errors: Array<{ task: string; phase: 'setup' | 'teardown'; error: unknown }>;
  /** Titles of the tasks whose setup completed. */
  completed: string[];
  /** The setups stopped early because the signal was aborted. */
  aborted: boolean;
}

export interface TaskRunOptions {
  signal?: AbortSignal;
  /** Called right before the teardowns start (e.g. to tell bots and faults to wind down). */
  beforeTeardown?(): void;
  log?(line: string): void;
}

export async function runTasks<Context>(tasks: ReadonlyArray<Task<Context>>, context: Context, options: TaskRunOptions = {}): Promise<TaskRunResult> {
  const signal = options.signal ?? new AbortController().signal;
  const result: TaskRunResult = { errors: [], completed: [], aborted: false };
  const begun: Array<Task<Context>> = [];
  for (const task of tasks) {
    if (signal.aborted) {
      result.aborted = true;
      break;
    }
    begun.push(task);
    try {
      options.log?.(`task ${task.title}: setup`);
      await task.setup?.(context, signal);
      result.completed.push(task.title);
    } catch (error) {
      result.errors.push({ task: task.title, phase: 'setup', error });
      break;
    }
  }
  if (!result.aborted && signal.aborted && result.completed.length < tasks.length) result.aborted = true;
  try {
    options.beforeTeardown?.();
  } catch (error) {
    result.errors.push({ task: 'before teardown', phase: 'teardown', error });
  }
  for (const task of begun.reverse()) {
    try {
      options.log?.(`task ${task.title}: teardown`);
      await task.teardown?.(context);
    } catch (error) {
      result.errors.push({ task: task.title, phase: 'teardown', error });
    }
  }
  return result;
}
