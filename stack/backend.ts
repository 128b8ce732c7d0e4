/**
 * The reference game backend as a local Node process:
 * node bin/run-ts.js games/reference/server/main.ts --port <ws> --admin-port <admin> --database-url <url> [--defect X].
 * Healthy once <admin>/readyz answers 200.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HarnessError } from '../core/exit-codes';
import type { DebrisRecorder } from './debris';
import { isHttpOk } from './http';
import { ManagedProcess } from './managed-process';
import { REPO_ROOT } from './tools-path';
import type { BackendHandle } from './types';

export const DEFAULT_BACKEND_ENTRY = path.join(REPO_ROOT, 'games', 'reference', 'server', 'main.ts');
export const RUN_TS = path.join(REPO_ROOT, 'bin', 'run-ts.js');

export interface StartBackendOptions {
  wsPort: number;
  adminPort: number;
  /** Where the backend reaches PostgreSQL (through the backend-db proxy). */
  databaseUrl: string;
  logFile: string;
  defect?: string;
  env?: Record<string, string>;
  extraArgs?: string[];
  /** TypeScript or JavaScript entry point; default games/reference/server/main.ts. */
  entry?: string;
  debris?: DebrisRecorder;
  startTimeoutMs?: number;
}

export class BackendProcess extends ManagedProcess implements BackendHandle {
  readonly wsUrl: string;
  readonly adminUrl: string;

  constructor(
    readonly wsPort: number,
    readonly adminPort: number,
    options: StartBackendOptions,
  ) {
    const entry = options.entry ?? DEFAULT_BACKEND_ENTRY;
    if (!fs.existsSync(entry)) throw new HarnessError(`backend entry point ${entry} does not exist; check StackOptions.backend.entry`);
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    super({
      name: 'backend',
      command: process.execPath,
      args: [
        RUN_TS,
        entry,
        '--port', String(wsPort),
        '--admin-port', String(adminPort),
        '--database-url', options.databaseUrl,
        ...(options.defect ? ['--defect', options.defect] : []),
        ...(options.extraArgs ?? []),
      ],
      env: { ...process.env, ...options.env },
      cwd: REPO_ROOT,
      logFile: options.logFile,
      healthCheck: () => isHttpOk(`${adminUrl}/readyz`),
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      debris: options.debris,
    });
    this.wsUrl = `ws://127.0.0.1:${wsPort}`;
    this.adminUrl = adminUrl;
  }
}

export async function startBackend(options: StartBackendOptions): Promise<BackendProcess> {
  const backend = new BackendProcess(options.wsPort, options.adminPort, options);
  await backend.start();
  return backend;
}
