/** Teardown that always runs: around a function (withStack) and on SIGINT / SIGTERM. */
import { getRuntime } from './runtimes';
import type { Runtime, RuntimeName, StackOptions, StartedStack } from './types';

/** Starts a stack, runs fn, and always stops the stack afterwards (success, failure, exception). */
export async function withStack<T>(options: StackOptions, fn: (stack: StartedStack) => Promise<T>, runtime: Runtime | RuntimeName = 'process'): Promise<T> {
  const driver = typeof runtime === 'string' ? getRuntime(runtime) : runtime;
  const stack = await driver.start(options);
  try {
    return await fn(stack);
  } finally {
    await stack.stop();
  }
}

export const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

export interface SignalTeardownOptions {
  log?: (line: string) => void;
  /** Defaults to process.exit; tests pass their own. */
  exit?: (code: number) => void;
}

/**
 * On SIGINT / SIGTERM: stop the stack, then exit 130 / 143. A second signal during teardown is
 * noted and ignored (teardown is bounded in time). Returns a function that removes the handlers.
 */
export function installSignalTeardown(stack: Pick<StartedStack, 'stop'>, options: SignalTeardownOptions = {}): () => void {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let tearingDown = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (tearingDown) {
      log(`lagstorm: ${signal} again: teardown is still running and will finish within its time limit`);
      return;
    }
    tearingDown = true;
    log(`lagstorm: ${signal} received: stopping the stack`);
    const code = SIGNAL_EXIT_CODES[signal] ?? 128;
    stack.stop().then(
      () => exit(code),
      (error: unknown) => {
        log(`lagstorm: teardown failed: ${(error as Error).message}; run \`lagstorm cleanup\``);
        exit(code);
      },
    );
  };
  const signals = Object.keys(SIGNAL_EXIT_CODES) as NodeJS.Signals[];
  for (const signal of signals) process.on(signal, handler);
  return () => {
    for (const signal of signals) process.off(signal, handler);
  };
}
