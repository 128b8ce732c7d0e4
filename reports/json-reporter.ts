/** summary.json: the run's single record, with the list of files every reporter wrote. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../core/summary';
import type { ReportContext, Reporter } from './reporter';

export class JsonReporter implements Reporter {
  readonly name = 'json';
  constructor(private readonly fileName = 'summary.json') {}

  onRunEnd(summary: RunSummary, context: ReportContext): Record<string, string> {
    const withSelf: RunSummary = { ...summary, artifacts: { ...summary.artifacts, json: this.fileName } };
    writeFileSync(path.join(context.runDir, this.fileName), JSON.stringify(withSelf, null, 2) + '\n');
    return { json: this.fileName };
  }
}
