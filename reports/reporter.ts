/**
 * Reporter hooks, all optional (like Playwright's): the runner calls them through a
 * ReporterMultiplexer, which isolates a failing reporter from the others and from the run.
 */
import type { RunSummary } from '../core/summary';
import type { PanelSeries } from '../dashboards/prometheus-query';

export interface RunStartInfo {
  runId: string;
  scenario: string;
  seed: number;
  runDir: string;
  /** ISO time. */
  startedAt: string;
}

export interface ProgressSample {
  elapsedMs: number;
  botsOnline: number;
  actionsPerSecond: number;
  p99Ms: number | null;
  errors: number;
  activeFaults: string[];
}

export interface FaultEvent {
  type: 'start' | 'stop';
  id: string;
  fault: string;
  /** ms since run start. */
  atMs: number;
}

export interface ReportContext {
  runDir: string;
  /** Panel data fetched from the run's Prometheus (fetchPanelSeries); absent when there was none. */
  series?: PanelSeries[];
  /** The run's history file (history.jsonl.gz); read it with readHistory from core/history-file.ts. */
  historyPath?: string;
}

export interface Reporter {
  /** Shown in reporterErrors. */
  readonly name?: string;
  onRunStart?(info: RunStartInfo): void | Promise<void>;
  onProgress?(sample: ProgressSample): void | Promise<void>;
  onFault?(event: FaultEvent): void | Promise<void>;
  /** Return the files written (relative to runDir) so the runner can list them in summary.artifacts. */
  onRunEnd?(summary: RunSummary, context: ReportContext): void | Record<string, string> | Promise<void | Record<string, string>>;
}

export interface ReporterError {
  reporter: string;
  hook: keyof Omit<Reporter, 'name'>;
  message: string;
}

type Hook = ReporterError['hook'];

/** Fans every hook out to all reporters; a reporter that throws (sync or async) is recorded, never fatal. */
export class ReporterMultiplexer implements Reporter {
  readonly name = 'multiplexer';
  readonly reporterErrors: ReporterError[] = [];
  /** Files reported by onRunEnd, merged across reporters. */
  readonly artifacts: Record<string, string> = {};
  private readonly reporters: Reporter[];
  private readonly hookTimeoutMs: number;

  /** hookTimeoutMs bounds each reporter's hook call (default 60 s): a hung reporter must not hang the run. */
  constructor(reporters: Reporter[], options: { hookTimeoutMs?: number } = {}) {
    this.reporters = [...reporters];
    this.hookTimeoutMs = options.hookTimeoutMs ?? 60_000;
  }

  add(reporter: Reporter): void {
    this.reporters.push(reporter);
  }

  private async guard<R>(reporter: Reporter, index: number, hook: Hook, call: () => R | Promise<R>, onResult?: (result: Awaited<R>) => void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      // Inside an async function a synchronous throw becomes a rejection we catch.
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${hook} did not finish within ${this.hookTimeoutMs} ms`)), this.hookTimeoutMs);
      });
      const result = await Promise.race([(async () => call())(), timeout]);
      if (result !== undefined && onResult) onResult(result as Awaited<R>);
    } catch (error) {
      this.reporterErrors.push({
        reporter: reporter.name ?? reporter.constructor?.name ?? `reporter #${index}`,
        hook,
        message: error instanceof Error ? error.message : String(error),
      });
    } finally {
      clearTimeout(timer);
    }
  }

  private async fanOut(hook: Hook, call: (reporter: Reporter) => unknown): Promise<void> {
    await Promise.all(this.reporters.map((reporter, index) => this.guard(reporter, index, hook, () => call(reporter))));
  }

  onRunStart(info: RunStartInfo): Promise<void> {
    return this.fanOut('onRunStart', (reporter) => reporter.onRunStart?.(info));
  }

  onProgress(sample: ProgressSample): Promise<void> {
    return this.fanOut('onProgress', (reporter) => reporter.onProgress?.(sample));
  }

  onFault(event: FaultEvent): Promise<void> {
    return this.fanOut('onFault', (reporter) => reporter.onFault?.(event));
  }

  /**
   * Runs reporters one after another, in order, so a later one (json, console) sees the files
   * the earlier ones wrote in `summary.artifacts`. Returns all files written.
   */
  async onRunEnd(summary: RunSummary, context: ReportContext): Promise<Record<string, string>> {
    for (const [index, reporter] of this.reporters.entries()) {
      const view: RunSummary = { ...summary, artifacts: { ...summary.artifacts, ...this.artifacts } };
      await this.guard(reporter, index, 'onRunEnd', () => reporter.onRunEnd?.(view, context), (files) => {
        if (files && typeof files === 'object') Object.assign(this.artifacts, files);
      });
    }
    return { ...this.artifacts };
  }
}
