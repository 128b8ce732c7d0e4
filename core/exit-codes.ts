/** Process exit codes of every lagstorm command. */
export const ExitCode = {
  pass: 0,
  verdictFailed: 1,
  harnessError: 2,
  invalidInput: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the user caused (bad scenario, bad flag): exit 3, message names the field and the fix. */
export class InvalidInputError extends Error {
  readonly exitCode = ExitCode.invalidInput;
  constructor(message: string, readonly issues: string[] = []) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

/** The harness or its infrastructure failed (a part did not start, a tool is missing): exit 2. */
export class HarnessError extends Error {
  readonly exitCode = ExitCode.harnessError;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HarnessError';
  }
}
