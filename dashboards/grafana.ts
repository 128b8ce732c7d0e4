/**
 * Grafana dashboards built from the panel catalogue with Grafana's Foundation SDK: current
 * schema, `timeseries` panels, typed Prometheus queries, a Prometheus datasource variable.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { LegendDisplayMode, LegendPlacement, VizLegendOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { PANEL_CATALOGUE, panelsByRow, type CataloguePanel } from './catalogue';
import { prometheusScrapeConfigExample } from './prometheus-config';

export const DATASOURCE_VARIABLE = 'datasource';
const PROMETHEUS_DATASOURCE = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` };
const GRAFANA_DATASOURCE = { type: 'grafana', uid: '-- Grafana --' };

export interface FaultWindow {
  id: string;
  fault: string;
  /** Absolute epoch ms. */
  startMs: number;
  /** Absolute epoch ms; undefined when the fault never stopped. */
  endMs?: number;
}

export interface DashboardOptions {
  title?: string;
  uid?: string;
  catalogue?: readonly CataloguePanel[];
  /** Grafana time range: absolute ISO times or relative ('now-15m'). */
  time?: { from: string; to: string };
  /** The run these panels belong to (tags and the fault-annotation filter). */
  runId?: string;
  faultWindows?: FaultWindow[];
  refresh?: string;
}

/** A Grafana annotation as the HTTP API takes it (POST /api/annotations). */
export interface GrafanaAnnotationPayload {
  time: number;
  timeEnd: number;
  tags: string[];
  text: string;
}

function timeseriesPanel(panel: CataloguePanel, numericId: number): PanelBuilder {
  const query = new DataqueryBuilder().expr(panel.expr).range().refId('A').legendFormat(panel.legend ?? '__auto');
  const builder = new PanelBuilder()
    .id(numericId)
    .title(panel.title)
    .description(panel.description ?? `lagstorm panel ${panel.id}`)
    .datasource(PROMETHEUS_DATASOURCE)
    .withTarget(query)
    .unit(panel.unit)
    .height(8)
    .span(8)
    .fillOpacity(10)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom));
  if (panel.unit === 'bool') builder.min(0).max(1);
  if (panel.thresholds) {
    builder.thresholds(
      new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(panel.thresholds.map((step) => ({ value: step.value, color: step.color }))),
    );
  }
  return builder;
}

/** A Grafana-datasource annotation query matching the run's fault annotations by tag. */
function tagTarget(tags: string[]): Builder<Dataquery> {
  return {
    build: () => ({ type: 'tags', tags, limit: 100, matchAny: false, _implementsDataqueryVariant: () => undefined }) as Dataquery,
  };
}

export function buildDashboard(options: DashboardOptions = {}): Dashboard {
  const catalogue = options.catalogue ?? PANEL_CATALOGUE;
  const builder = new DashboardBuilder(options.title ?? 'lagstorm')
    .uid(options.uid ?? 'lagstorm-overview')
    .tags(['lagstorm', ...(options.runId ? [`run:${options.runId}`] : [])])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time(options.time ?? { from: 'now-30m', to: 'now' })
    .refresh(options.refresh ?? (options.time ? '' : '10s'))
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder(DATASOURCE_VARIABLE).label('Prometheus').type('prometheus'))
    .annotation(
      new AnnotationQueryBuilder()
        .name('Annotations & Alerts')
        .datasource(GRAFANA_DATASOURCE)
        .builtIn(1)
        .enable(true)
        .hide(true)
        .iconColor('rgba(0, 211, 255, 1)')
        .type('dashboard'),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('Faults (lagstorm_fault_active)')
        .datasource(PROMETHEUS_DATASOURCE)
        .enable(true)
        .iconColor('rgba(242, 73, 92, 0.6)')
        .expr('max by (fault) (lagstorm_fault_active) > 0')
        .titleFormat('{{fault}}')
        .step('1s')
        .target(new DataqueryBuilder().expr('max by (fault) (lagstorm_fault_active) > 0').range().refId('Anno').legendFormat('{{fault}}')),
    );
  if (options.runId) {
    builder.annotation(
      new AnnotationQueryBuilder()
        .name(`Fault windows of run ${options.runId}`)
        .datasource(GRAFANA_DATASOURCE)
        .enable(true)
        .iconColor('rgba(255, 152, 48, 0.6)')
        .target(tagTarget(['lagstorm', `run:${options.runId}`])),
    );
  }
  let numericId = 1;
  for (const group of panelsByRow(catalogue)) {
    builder.withRow(new RowBuilder(group.row).id(numericId++));
    for (const panel of group.panels) builder.withPanel(timeseriesPanel(panel, numericId++));
  }
  return builder.build();
}

/** Payloads to POST to Grafana's /api/annotations so the run's fault windows show as regions. */
export function faultAnnotations(runId: string, windows: FaultWindow[]): GrafanaAnnotationPayload[] {
  return windows.map((window) => ({
    time: window.startMs,
    timeEnd: window.endMs ?? window.startMs,
    tags: ['lagstorm', `run:${runId}`, `fault:${window.fault}`],
    text: `${window.fault} (${window.id})${window.endMs === undefined ? ' — never stopped' : ''}`,
  }));
}

/**
 * Writes the overview dashboard (lagstorm-overview.json) and an example Prometheus scrape
 * config (prometheus.yml) into outDir; `lagstorm dashboards --out DIR` calls this.
 */
export function buildDashboards(outDir: string): { files: string[] } {
  mkdirSync(outDir, { recursive: true });
  const dashboardFile = path.join(outDir, 'lagstorm-overview.json');
  writeFileSync(dashboardFile, JSON.stringify(buildDashboard(), null, 2) + '\n');
  const prometheusFile = path.join(outDir, 'prometheus.yml');
  writeFileSync(prometheusFile, prometheusScrapeConfigExample());
  return { files: [dashboardFile, prometheusFile] };
}
