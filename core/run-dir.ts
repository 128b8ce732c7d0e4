/** runs/<id>/ holds one run's record; runs/latest points at the newest. */
import fs from 'node:fs';
import path from 'node:path';

export function defaultRunsDir(): string {
  return path.resolve(process.cwd(), 'runs');
}

export function makeRunId(scenario: string, seed: number, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${scenario}-${seed}`;
}

export function createRunDir(runsDir: string, runId: string): string {
  const runDir = path.join(runsDir, runId);
  fs.mkdirSync(path.join(runDir, 'logs'), { recursive: true });
  const latest = path.join(runsDir, 'latest');
  try {
    fs.rmSync(latest, { force: true });
    fs.symlinkSync(runId, latest);
  } catch {
    // A filesystem without symlinks still gets the run; only the shortcut is missing.
  }
  return runDir;
}
