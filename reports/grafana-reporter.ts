/** dashboard.json for the run: the catalogue's panels over the run's time range, faults as annotations. */
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { RunSummary } from '../core/summary';
import { buildDashboard, faultAnnotations } from '../dashboards/grafana';
import type { ReportContext, Reporter } from './reporter';
import { absoluteFaultWindows } from './format';

/** Grafana uids are at most 40 characters. */
export function runDashboardUid(runId: string): string {
  return `lagstorm-${createHash('sha256').update(runId).digest('hex').slice(0, 16)}`;
}

export function buildRunDashboard(summary: RunSummary): ReturnType<typeof buildDashboard> {
  const windows = absoluteFaultWindows(summary).map((w) => ({ id: w.id, fault: w.fault, startMs: w.startMs, endMs: w.stopped ? w.endMs : undefined }));
  const startMs = Date.parse(summary.startedAt);
  const endMs = Math.max(Date.parse(summary.finishedAt) || startMs + summary.durationMs, startMs + 1000);
  return buildDashboard({
    title: `lagstorm ${summary.scenario} — ${summary.runId}`,
    uid: runDashboardUid(summary.runId),
    runId: summary.runId,
    faultWindows: windows,
    time: { from: new Date(startMs - 30_000).toISOString(), to: new Date(endMs + 30_000).toISOString() },
  });
}

export class GrafanaReporter implements Reporter {
  readonly name = 'grafana';
  constructor(private readonly fileName = 'dashboard.json', private readonly annotationsFileName = 'grafana-annotations.json') {}

  onRunEnd(summary: RunSummary, context: ReportContext): Record<string, string> {
    writeFileSync(path.join(context.runDir, this.fileName), JSON.stringify(buildRunDashboard(summary), null, 2) + '\n');
    const windows = absoluteFaultWindows(summary).map((w) => ({ id: w.id, fault: w.fault, startMs: w.startMs, endMs: w.stopped ? w.endMs : undefined }));
    writeFileSync(path.join(context.runDir, this.annotationsFileName), JSON.stringify(faultAnnotations(summary.runId, windows), null, 2) + '\n');
    return { grafana: this.fileName, grafanaAnnotations: this.annotationsFileName };
  }
}
