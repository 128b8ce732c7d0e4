/** Reporters and their multiplexer; the runner builds the default set with createDefaultReporters. */
import { ConsoleReporter, type ConsoleReporterOptions } from './console-reporter';
import { GrafanaReporter } from './grafana-reporter';
import { HtmlReporter } from './html-reporter';
import { JsonReporter } from './json-reporter';
import { JunitReporter } from './junit-reporter';
import { MarkdownReporter } from './markdown-reporter';
import { ReporterMultiplexer, type Reporter } from './reporter';

export * from './reporter';
export { ConsoleReporter, formatProgress } from './console-reporter';
export { JsonReporter } from './json-reporter';
export { JunitReporter, renderJunit, escapeXml } from './junit-reporter';
export { MarkdownReporter, renderMarkdown } from './markdown-reporter';
export { HtmlReporter, renderHtmlReport } from './html-reporter';
export { GrafanaReporter, buildRunDashboard } from './grafana-reporter';
export { screenshotReport, withReportPage } from './screenshot';

export type ReporterName = 'console' | 'json' | 'junit' | 'markdown' | 'html' | 'grafana';
export const REPORTER_NAMES: ReporterName[] = ['html', 'junit', 'markdown', 'grafana', 'json', 'console'];

/**
 * The default reporters in the order onRunEnd needs: file writers first, then json (so
 * summary.json lists every file), then console (so it can print the report's path).
 */
export function createDefaultReporters(options: { only?: ReporterName[]; console?: ConsoleReporterOptions; extra?: Reporter[] } = {}): ReporterMultiplexer {
  const wanted = new Set(options.only ?? REPORTER_NAMES);
  const make: Record<ReporterName, () => Reporter> = {
    html: () => new HtmlReporter(),
    junit: () => new JunitReporter(),
    markdown: () => new MarkdownReporter(),
    grafana: () => new GrafanaReporter(),
    json: () => new JsonReporter(),
    console: () => new ConsoleReporter(options.console),
  };
  const reporters = REPORTER_NAMES.filter((name) => wanted.has(name)).map((name) => make[name]());
  // User reporters go before json/console so their files are listed too.
  const split = reporters.findIndex((reporter) => reporter.name === 'json' || reporter.name === 'console');
  if (options.extra) reporters.splice(split === -1 ? reporters.length : split, 0, ...options.extra);
  return new ReporterMultiplexer(reporters);
}
