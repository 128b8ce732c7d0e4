/**
 * The few `docker` CLI calls image building needs. The classic builder (DOCKER_BUILDKIT=0) is used:
 * the 28.x client has no buildx plugin here, and Debian's 20.10 engine builds fine without it.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { HarnessError } from '../../core/exit-codes';

const exec = promisify(execFile);

/** The label holding the content hash an image was built from. */
export const HASH_LABEL = 'lagstorm.image-hash';

export const dockerEnv = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' });

/** The content hash label of a local image, or undefined when the image is absent. */
export async function imageHash(tag: string): Promise<string | undefined> {
  try {
    const { stdout } = await exec('docker', ['image', 'inspect', '--format', `{{index .Config.Labels "${HASH_LABEL}"}}`, tag], { timeout: 30_000 });
    return stdout.trim() || '(no label)';
  } catch {
    return undefined;
  }
}

/** Runs a docker (or shell) command, streaming its output into `logFile`; a HarnessError with the tail on failure. */
export function runLogged(command: string, args: string[], logFile: string, what: string, options: { cwd?: string; timeoutMs?: number } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(logFile, 'a');
    const child = spawn(command, args, { cwd: options.cwd, env: dockerEnv(), stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs ?? 1_800_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new HarnessError(`${what}: ${error.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-6).join('\n  ');
      reject(new HarnessError(`${what} failed (${signal ?? `exit ${code}`}); full log in ${logFile}:\n  ${tail}`));
    });
  });
}

export function sha256(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(typeof part === 'string' ? `${part.length}:${part}` : part);
  return hash.digest('hex');
}

export function fileSha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
