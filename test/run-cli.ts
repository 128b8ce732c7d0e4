/** The real `lagstorm` binary as a child process, for the whole-stack CLI tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '..');
export const CLI = path.join(REPO, 'bin', 'lagstorm.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  timeoutMs?: number;
  /** Sent when the timeout hits: SIGINT lets the CLI heal and tear down before the test fails. */
  killSignal?: NodeJS.Signals;
  /** Called with all stdout so far on every chunk (to act mid-run, e.g. send a signal). */
  onStdout?: (stdout: string, child: ChildProcess) => void;
}

/** Runs `lagstorm <args>` from the repo root; rejects (after killing it) when it outlives the timeout. */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill(options.killSignal ?? 'SIGINT');
      reject(new Error(`lagstorm ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 150_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
