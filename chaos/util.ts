/** Small helpers every fault family shares: abortable sleeps, bounded polling, commands with timeouts. */
import { execFile } from 'node:child_process';
import { z } from 'zod';
import { parseDuration } from '../core/duration';
import { HarnessError } from '../core/exit-codes';

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** Sleeps ms; rejects at once when the signal aborts (the timer is cleared either way). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Polls check() every intervalMs until it returns a value other than undefined, or fails after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 50, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    throwIfAborted(signal);
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new HarnessError(`timed out after ${timeoutMs}ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs, signal);
  }
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a command (no shell) with a timeout; rejects with its stderr in the message. */
export function runCommand(command: string, args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: options.timeoutMs ?? 15_000, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const detail = String(stderr).trim() || error.message;
        reject(Object.assign(new HarnessError(`\`${command} ${args.join(' ')}\` failed: ${detail}`), { stderr: String(stderr) }));
      } else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export function requireRoot(faultType: string, why: string): void {
  if (!isRoot()) throw new HarnessError(`fault "${faultType}" needs root (${why}); run lagstorm as root (e.g. sudo) or remove the fault from the scenario`);
}

/** A duration param: number of ms or '500ms' / '2s' / '1m'. */
export const durationParam = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** Per-process counter so two faults of one run never share a name. */
let sequence = 0;
export function nextSequence(): number {
  sequence += 1;
  return sequence;
}

/** runId → something safe in nft table names, slot names and file names. */
export function safeName(text: string, maxLength = 24): string {
  return text.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, maxLength);
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;
