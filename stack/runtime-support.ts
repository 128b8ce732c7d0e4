/** What both runtimes do the same way: check StackOptions, open the state file, bound teardown steps. */
import fs from 'node:fs';
import path from 'node:path';
import { HarnessError, InvalidInputError } from '../core/exit-codes';
import { isOwnerAlive, readStateFile, STATE_FILE_NAME, StateFileRecorder } from './state-file';
import type { LinkName, ProxyLink, StackOptions, StartedStack } from './types';

/** Runs a teardown step with a time limit; a failing or hanging step never blocks the next ones. */
export async function bounded(label: string, timeoutMs: number, action: () => Promise<unknown>, errors: string[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      action(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`did not finish within ${timeoutMs / 1000}s`)), timeoutMs))),
    ]);
  } catch (error) {
    errors.push(`${label}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

export function assertOptions(options: StackOptions): void {
  const issues: string[] = [];
  if (!options.runId) issues.push('runId: must be a non-empty string');
  if (!options.runDir) issues.push('runDir: must be a directory path (runs/<id>)');
  for (const [name, port] of Object.entries(options.ports ?? {})) {
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) issues.push(`ports.${name}: must be an integer 1-65535 or left unset for a free port (got ${port})`);
  }
  if (issues.length > 0) throw new InvalidInputError(`invalid stack options: ${issues.join('; ')}`, issues);
}

/** A new state file, refusing to overwrite debris an earlier (dead) run of the same id left behind. */
export function openStateFile(runDir: string, runId: string): StateFileRecorder {
  const file = path.join(runDir, STATE_FILE_NAME);
  if (fs.existsSync(file)) {
    try {
      const previous = readStateFile(file);
      if (previous.items.length > 0) {
        const who = isOwnerAlive(previous.owner) ? `a running lagstorm (pid ${previous.owner.pid})` : 'an earlier run that did not finish';
        throw new HarnessError(`${file} still lists ${previous.items.length} debris item(s) of ${who}; run \`lagstorm cleanup\` first or use another run id`);
      }
    } catch (error) {
      if (error instanceof HarnessError) throw error;
      // An unreadable leftover file holds nothing we can undo: replace it.
    }
  }
  return new StateFileRecorder(file, runId);
}


/** The links by name, and the endpoints a started stack reports, the same on every runtime. */
export function stackEndpoints(parts: {
  links: ReadonlyArray<ProxyLink>;
  backend: { adminUrl: string };
  postgres: { superuserUrl: string };
  toxiproxy: { apiUrl: string };
  prometheus: { url: string };
  backendDatabaseUrl: string;
}): { links: Record<LinkName, ProxyLink>; endpoints: StartedStack['endpoints'] } {
  const links = Object.fromEntries(parts.links.map((link) => [link.name, link])) as Record<LinkName, ProxyLink>;
  return {
    links,
    endpoints: {
      botsWsUrl: `ws://${links['bots-backend'].listen}`,
      botsWsUrlV6: `ws://${links['bots-backend-v6'].listen}`,
      backendAdminUrl: parts.backend.adminUrl,
      postgresUrl: parts.postgres.superuserUrl,
      backendDatabaseUrl: parts.backendDatabaseUrl,
      toxiproxyApiUrl: parts.toxiproxy.apiUrl,
      prometheusUrl: parts.prometheus.url,
    },
  };
}
