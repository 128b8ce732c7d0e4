import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PANEL_CATALOGUE, PANEL_ROWS } from './catalogue';
import { buildDashboard, buildDashboards } from './grafana';
import { KNOWN_METRICS } from './metric-names';
import { metricNamesIn, promqlProblems, resolveGrafanaVariables } from './promql';
import { buildRunDashboard } from '../reports/grafana-reporter';
import { failingRunSummary } from '../reports/test-fixtures';

interface PanelJson {
  type: string;
  title: string;
  id: number;
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ expr: string; refId?: string; legendFormat?: string }>;
  fieldConfig?: { defaults?: { unit?: string } };
  gridPos: { x: number; y: number; w: number; h: number };
}

describe('panel catalogue', () => {
  it('has unique ids, covers every row, and reads only METRICS.md metric names', () => {
    const ids = PANEL_CATALOGUE.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const row of PANEL_ROWS) expect(PANEL_CATALOGUE.some((panel) => panel.row === row)).toBe(true);
    for (const panel of PANEL_CATALOGUE) {
      expect({ id: panel.id, problems: promqlProblems(panel.expr) }).toEqual({ id: panel.id, problems: [] });
    }
  });

  it('shows latency p50/p95/p99 by kind from the bot histograms', () => {
    for (const q of ['0.5', '0.95', '0.99']) {
      const panel = PANEL_CATALOGUE.find((p) => p.row === 'Action latency' && p.expr.startsWith(`histogram_quantile(${q},`) && p.expr.includes('lagstorm_bot_action_rtt_seconds_bucket'));
      expect(panel?.expr).toContain('by (kind, le)');
    }
  });

  it('finds unknown metrics and broken brackets (the check can fail)', () => {
    expect(promqlProblems('sum(rate(game_actions_totl[1m]))')).toEqual(['unknown metric game_actions_totl (not in METRICS.md)']);
    expect(promqlProblems('sum(rate(game_actions_total[1m])')).toContain("unclosed '('");
    expect(promqlProblems('sum by (kind) (vector(1))')).toEqual(['reads no metric']);
    expect(metricNamesIn('histogram_quantile(0.99, sum by (kind, le) (rate(lagstorm_bot_action_rtt_seconds_bucket{kind!="x"}[5m])))')).toEqual(['lagstorm_bot_action_rtt_seconds_bucket']);
    expect(resolveGrafanaVariables('rate(x[$__rate_interval])', 4, 1)).toBe('rate(x[4s])');
  });
});

describe('Grafana dashboards (Foundation SDK)', () => {
  it('uses the current schema with timeseries panels, typed Prometheus queries and a datasource variable', () => {
    const dashboard = JSON.parse(JSON.stringify(buildDashboard())) as {
      schemaVersion: number;
      panels: PanelJson[];
      templating: { list: Array<{ type: string; name: string; query: unknown }> };
    };
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(variable).toMatchObject({ name: 'datasource', query: 'prometheus' });

    const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
    const rows = dashboard.panels.filter((panel) => panel.type === 'row').map((panel) => panel.title);
    expect(rows).toEqual([...PANEL_ROWS]);
    expect(panels).toHaveLength(PANEL_CATALOGUE.length);
    for (const entry of PANEL_CATALOGUE) {
      const panel = panels.find((p) => p.title === entry.title);
      expect(panel).toBeDefined();
      expect(panel?.type).toBe('timeseries');
      expect(panel?.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel?.targets).toHaveLength(1);
      expect(panel?.targets?.[0].expr).toBe(entry.expr);
      expect(panel?.fieldConfig?.defaults?.unit).toBe(entry.unit);
      for (const name of metricNamesIn(panel?.targets?.[0].expr ?? '')) {
        expect(KNOWN_METRICS.some((metric) => name.startsWith(metric.name))).toBe(true);
      }
    }
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    // panels sit on the 24-column grid without overlapping
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      for (let x = panel.gridPos.x; x < panel.gridPos.x + panel.gridPos.w; x++) {
        for (let y = panel.gridPos.y; y < panel.gridPos.y + panel.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it("gives a run's dashboard the run's time range and fault windows as annotations", () => {
    const summary = failingRunSummary('/tmp/x');
    const dashboard = JSON.parse(JSON.stringify(buildRunDashboard(summary))) as {
      time: { from: string; to: string };
      tags: string[];
      annotations: { list: Array<{ name: string; target?: { tags?: string[] }; expr?: string }> };
    };
    expect(Date.parse(dashboard.time.from)).toBeLessThanOrEqual(Date.parse(summary.startedAt));
    expect(Date.parse(dashboard.time.to)).toBeGreaterThanOrEqual(Date.parse(summary.finishedAt));
    expect(Date.parse(dashboard.time.to) - Date.parse(dashboard.time.from)).toBeLessThan(summary.durationMs + 120_000);
    expect(dashboard.tags).toContain(`run:${summary.runId}`);
    const runAnnotation = dashboard.annotations.list.find((a) => a.name.includes(summary.runId));
    expect(runAnnotation?.target?.tags).toEqual(['lagstorm', `run:${summary.runId}`]);
    expect(dashboard.annotations.list.some((a) => a.expr?.includes('lagstorm_fault_active'))).toBe(true);
  });

  it('buildDashboards writes the dashboard and a Prometheus scrape config example', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lagstorm-dash-'));
    try {
      const { files } = buildDashboards(path.join(dir, 'out'));
      expect(files.map((file) => path.basename(file))).toEqual(['lagstorm-overview.json', 'prometheus.yml']);
      const written = JSON.parse(readFileSync(files[0], 'utf8')) as { schemaVersion: number; panels: unknown[] };
      expect(written.schemaVersion).toBeGreaterThanOrEqual(39);
      const yml = readFileSync(files[1], 'utf8');
      for (const job of ['backend', 'bots', 'postgres']) expect(yml).toContain(`- job_name: ${job}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('README carries the note about grafana-dash-gen', () => {
    const readme = readFileSync(path.join(__dirname, 'README.md'), 'utf8');
    expect(readme).toContain('grafana-dash-gen emits schemaVersion 6 graph/singlestat panels that current Grafana no longer renders natively');
  });
});
