/**
 * Command-line flags and their environment equivalents. Flags win over the environment.
 * Bad input throws ConfigError naming the flag and the fix; main.ts turns it into exit code 3.
 */
import { parseArgs } from 'node:util';
import { parseDefects, type DefectName } from './defects';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';

export interface BackendConfig {
  /** WebSocket port on 127.0.0.1 and ::1 (0 = any free port; tests use it). */
  port: number;
  /** Admin HTTP port on 127.0.0.1 (0 = any free port). */
  adminPort: number;
  databaseUrl: string;
  defects: ReadonlySet<DefectName>;
  /** Actions waiting for the database, over all players, before new ones are shed ('overloaded'). */
  maxQueueDepth: number;
  /** Actions one player may have waiting before its new ones are shed. */
  maxPendingPerPlayer: number;
  /** Largest number of work items written in one group-commit transaction. */
  maxBatch: number;
  /** Extra wait before each group commit, to gather bigger batches (0 = commit as soon as the previous one ends). */
  groupCommitLingerMs: number;
  retry: RetryPolicy;
  /** Client-side timeout of one database query. */
  queryTimeoutMs: number;
  /** SIGTERM: how long in-flight actions may take to drain before sessions are closed anyway. */
  drainTimeoutMs: number;
  /** 'ack-before-commit' defect: the write-behind flusher persists this long after acking. */
  writeBehindMs: number;
  /** 'nonatomic-gift' defect: the credit leg runs in its own transaction this long after the debit. */
  giftCreditDelayMs: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const USAGE = `usage: node bin/run-ts.js games/reference/server/main.ts --port <ws> --admin-port <admin> --database-url <url> [--defect <name>]
  --port N               WebSocket port on 127.0.0.1 and ::1 (env LAGSTORM_BACKEND_PORT)
  --admin-port N         admin HTTP port on 127.0.0.1 (env LAGSTORM_BACKEND_ADMIN_PORT)
  --database-url URL     postgresql://user@host:port/db (env LAGSTORM_BACKEND_DATABASE_URL)
  --defect NAME          planted defect, 'none' by default (env LAGSTORM_BACKEND_DEFECT)
  --max-queue N          actions waiting for the database before shedding (default 10000)
  --retry-budget-ms N    how long a failing database write is retried (default 5000)
  --drain-timeout-ms N   SIGTERM drain limit (default 10000)
  --group-commit-ms N    linger before each group commit (default 0)`;

function integer(name: string, raw: string | undefined, fallback: number | undefined, min: number, max: number): number {
  if (raw === undefined || raw === '') {
    if (fallback === undefined) throw new ConfigError(`--${name} is required (an integer ${min}-${max})`);
    return fallback;
  }
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`--${name} must be an integer ${min}-${max}, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`--${name} must be an integer ${min}-${max}, got ${value}`);
  return value;
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): BackendConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        'admin-port': { type: 'string' },
        'database-url': { type: 'string' },
        defect: { type: 'string' },
        'max-queue': { type: 'string' },
        'retry-budget-ms': { type: 'string' },
        'drain-timeout-ms': { type: 'string' },
        'group-commit-ms': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n${USAGE}`);
  }
  const flag = (name: string): string | undefined => values[name] as string | undefined;

  const port = integer('port', flag('port') ?? env.LAGSTORM_BACKEND_PORT, undefined, 0, 65535);
  const adminPort = integer('admin-port', flag('admin-port') ?? env.LAGSTORM_BACKEND_ADMIN_PORT, undefined, 0, 65535);
  if (port !== 0 && port === adminPort) throw new ConfigError(`--port and --admin-port must differ (both ${port})`);

  const databaseUrl = flag('database-url') ?? env.LAGSTORM_BACKEND_DATABASE_URL;
  if (!databaseUrl) throw new ConfigError('--database-url is required, e.g. postgresql://postgres@127.0.0.1:5432/postgres');
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(databaseUrl);
  } catch {
    throw new ConfigError(`--database-url is not a URL: '${databaseUrl}' (expected postgresql://user@host:port/db)`);
  }
  if (parsedUrl.protocol !== 'postgresql:' && parsedUrl.protocol !== 'postgres:') {
    throw new ConfigError(`--database-url must start with postgresql://, got '${parsedUrl.protocol}//'`);
  }

  let defects: ReadonlySet<DefectName>;
  try {
    defects = parseDefects(flag('defect') ?? env.LAGSTORM_BACKEND_DEFECT);
  } catch (error) {
    throw new ConfigError(`--defect: ${(error as Error).message}`);
  }

  const retryBudgetMs = integer('retry-budget-ms', flag('retry-budget-ms'), DEFAULT_RETRY_POLICY.budgetMs, 0, 600_000);
  return {
    port,
    adminPort,
    databaseUrl,
    defects,
    maxQueueDepth: integer('max-queue', flag('max-queue'), 10_000, 1, 10_000_000),
    maxPendingPerPlayer: 256,
    maxBatch: 1000,
    groupCommitLingerMs: integer('group-commit-ms', flag('group-commit-ms'), 0, 0, 1000),
    retry: { ...DEFAULT_RETRY_POLICY, budgetMs: retryBudgetMs, backoff: !defects.has('retry-storm') },
    queryTimeoutMs: 5000,
    drainTimeoutMs: integer('drain-timeout-ms', flag('drain-timeout-ms'), 10_000, 0, 600_000),
    writeBehindMs: 1000,
    giftCreditDelayMs: 150,
  };
}
