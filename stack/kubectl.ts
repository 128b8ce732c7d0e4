/**
 * The user's `kubectl`, run as a child process: the Kubernetes agent engine applies, watches and
 * deletes through it (so the user's kubeconfig, context and auth plug-ins work as they are), and
 * `lagstorm cleanup` deletes what a killed run applied.
 */
import { execFile } from 'node:child_process';
import { HarnessError } from '../core/exit-codes';
import type { DebrisItem } from './debris';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

const INSTALL_HINT = 'install kubectl (https://kubernetes.io/docs/tasks/tools/) and point it at your cluster (`kubectl config use-context <name>`)';

/** Runs `kubectl <args>` found on PATH; a missing kubectl or a timeout is a HarnessError, a non-zero exit is the caller's to judge. */
export function kubectl(args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    // env given explicitly: kubectl is looked up on this PATH as the caller sees it (jest's sandbox has its own copy).
    const child = execFile('kubectl', args, { env: process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const failure = error as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
      if (failure?.code === 'ENOENT') return reject(new HarnessError(`kubectl not found on PATH; ${INSTALL_HINT}`));
      if (failure?.killed) return reject(new HarnessError(`kubectl ${args.join(' ')} did not answer within ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s; is the cluster reachable (\`kubectl cluster-info\`)?`));
      resolve({ code: typeof failure?.code === 'number' ? failure.code : failure ? 1 : 0, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** kubectl's current context, which the engine then names in every call (a context switched mid-run does not move it). */
export async function currentKubectlContext(): Promise<string> {
  const result = await kubectl(['config', 'current-context'], { timeoutMs: 15_000 });
  const context = result.stdout.trim();
  if (result.code !== 0 || context === '') {
    throw new HarnessError(`kubectl has no current context (${result.stderr.trim() || 'empty answer'}); choose your cluster with \`kubectl config use-context <name>\` (list them with \`kubectl config get-contexts\`)`);
  }
  return context;
}

/** `--context <name>` when one is known, so every call goes to the cluster the run started on. */
export function contextArgs(context: string | undefined): string[] {
  return context ? ['--context', context] : [];
}

/** Deletes everything a manifest file describes; objects already gone are not an error. */
export async function deleteManifest(item: Extract<DebrisItem, { kind: 'kubernetes' }>, timeoutMs = 60_000): Promise<{ deleted: string[] }> {
  const result = await kubectl([...contextArgs(item.context), 'delete', '-f', item.manifestFile, '--ignore-not-found', '--cascade=background', `--timeout=${Math.ceil(timeoutMs / 1000)}s`], { timeoutMs: timeoutMs + 5000 });
  if (result.code !== 0) {
    throw new HarnessError(`kubectl delete -f ${item.manifestFile} (namespace ${item.namespace}) failed: ${result.stderr.trim() || result.stdout.trim()}; delete them by hand with the same command, or run \`lagstorm cleanup\` again`);
  }
  return { deleted: result.stdout.split('\n').filter((line) => /\bdeleted\b/.test(line)) };
}
