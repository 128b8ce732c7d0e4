import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PANEL_CATALOGUE } from '../dashboards/catalogue';
import { HtmlReporter, renderHtmlReport } from './html-reporter';
import { screenshotReport, withReportPage } from './screenshot';
import { agentsFixture, failingRunSummary, seriesFixture } from './test-fixtures';
import type { AgentSummary } from '../core/summary';

describe('HTML report (static)', () => {
  it('is self-contained: no scripts, no external URLs, a CSP that forbids fetching', () => {
    const html = renderHtmlReport({ summary: failingRunSummary('/tmp/x'), series: seriesFixture() });
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toContain('<script');
    expect(html).not.toMatch(/<link\b/);
    expect(html).toContain("default-src 'none'");
    expect(html.match(/<svg class="chart"/g)).toHaveLength(PANEL_CATALOGUE.length);
  });

  it('escapes hostile text from checkers and fault names', () => {
    const summary = failingRunSummary('/tmp/x');
    summary.checks[0].summary = '<img src=x onerror=alert(1)>';
    summary.faults[0].fault = '"><script>alert(1)</script>';
    const html = renderHtmlReport({ summary, series: seriesFixture() });
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('says so when there is no Prometheus data, and draws "no data" frames for empty panels', () => {
    const summary = failingRunSummary('/tmp/x');
    expect(renderHtmlReport({ summary })).toContain('No Prometheus data was collected for this run.');
    const series = seriesFixture().map((panel, index) => (index === 0 ? { ...panel, lines: [], error: 'timed out after 10000 ms' } : panel));
    expect(renderHtmlReport({ summary, series })).toContain('no data: timed out after 10000 ms');
  });

  it('has an Agents table with one row per agent ("—" for what an agent lacks), and none without agents', () => {
    const html = renderHtmlReport({ summary: { ...failingRunSummary('/tmp/x'), agents: agentsFixture() } });
    const rows = [...html.matchAll(/<tr class="agent" data-agent="(\d+)">(.*?)<\/tr>/g)].map(([, index, row]) => [index, [...row.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map(([, text]) => text)]);
    expect(rows).toEqual([
      ['0', ['0', '0:1/2', 'pid 4242', '10', '4810', '480', '1.30 ms ± 2.00 ms', '0.00 ms', 'done (exited with code 0)']],
      ['1', ['1', '1/2:1', 'pid 4243', '10', '96', '12', '—', '—', 'lost (killed by SIGKILL)']],
    ]);
    expect(html).toContain('<h2>Agents</h2>');
    const sparse = renderHtmlReport({ summary: { ...failingRunSummary('/tmp/x'), agents: [{ index: 2, segment: '2/3:1' } as AgentSummary] } });
    expect(sparse).toMatch(/<tr class="agent" data-agent="2"><td class="num">2<\/td><td>2\/3:1<\/td>(<td[^>]*>—<\/td>){7}<\/tr>/);
    expect(sparse).not.toContain('undefined');
    expect(renderHtmlReport({ summary: failingRunSummary('/tmp/x') })).not.toMatch(/Agents|class="agent/);
  });
});

describe('HTML report in Chromium', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-report-'));
  });
  afterAll(() => {
    // Set LAGSTORM_KEEP_REPORT=1 to keep report.html and report.png for a look.
    if (process.env.LAGSTORM_KEEP_REPORT) process.stdout.write(`report kept in ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  });

  it('renders a failing run offline: charts with data, fault bands, the failing checker and its operation', async () => {
    const summary = { ...failingRunSummary(dir), agents: agentsFixture() };
    new HtmlReporter().onRunEnd(summary, { runDir: dir, series: seriesFixture() });
    const htmlPath = path.join(dir, 'report.html');
    const pngPath = path.join(dir, 'report.png');

    const findings = await screenshotReport(htmlPath, pngPath);
    expect(findings).toEqual({ consoleErrors: [], blockedRequests: [] });
    const png = fs.readFileSync(pngPath);
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(png.length).toBeGreaterThan(50_000);

    const seen = await withReportPage(htmlPath, async (page, pageFindings) => {
      const charts = await page.$$eval('svg.chart', (svgs) =>
        svgs.map((svg) => ({
          panel: svg.getAttribute('data-panel'),
          visible: svg.getBoundingClientRect().width > 100,
          paths: Array.from(svg.querySelectorAll('path.series')).map((p) => ({ points: Number(p.getAttribute('data-points')), segments: (p.getAttribute('d') ?? '').split('L').length, length: (p as SVGPathElement).getTotalLength() })),
          bands: Array.from(svg.querySelectorAll('rect.fault-band')).map((rect) => ({ fault: rect.getAttribute('data-fault'), width: rect.getBoundingClientRect().width })),
        })),
      );
      const banner = await page.locator('header.verdict-banner h1').innerText();
      const failing = page.locator('tr.check-invalid[data-check="acked-durable"]');
      const failingVisible = await failing.isVisible();
      const failingText = await failing.innerText();
      const offendingVisible = await failing.locator('pre.offending-op').first().isVisible();
      const brokenSlo = await page.locator('table.slos[data-phase="fault"] tr.slo-broken').innerText();
      const timelineBars = await page.locator('svg.fault-timeline rect.fault-bar').count();
      const agentsVisible = await page.locator('table.agents').isVisible();
      const agentRows = await page.locator('table.agents tr.agent').allInnerTexts();
      return { charts, banner, failingVisible, failingText, offendingVisible, brokenSlo, timelineBars, agentsVisible, agentRows, pageFindings };
    });

    expect(seen.pageFindings).toEqual({ consoleErrors: [], blockedRequests: [] });
    expect(seen.banner).toBe('✖ FAIL — smoke (seed 42)');
    expect(seen.charts.map((chart) => chart.panel)).toEqual(PANEL_CATALOGUE.map((panel) => panel.id));
    for (const chart of seen.charts) {
      expect(chart.visible).toBe(true);
      expect(chart.paths.length).toBeGreaterThan(0);
      for (const p of chart.paths) {
        expect(p.points).toBe(61);
        expect(p.segments).toBe(61);
        expect(p.length).toBeGreaterThan(10);
      }
      expect(chart.bands.map((band) => band.fault)).toEqual(['latency', 'backend-crash']);
      for (const band of chart.bands) expect(band.width).toBeGreaterThan(1);
    }
    expect(seen.failingVisible).toBe(true);
    expect(seen.failingText).toContain('1 acknowledged action missing after backend-crash');
    expect(seen.failingText).toContain('"player": "p-0007"');
    expect(seen.offendingVisible).toBe(true);
    expect(seen.brokenSlo).toContain('p(99)<200ms');
    expect(seen.timelineBars).toBe(2);
    expect(seen.agentsVisible).toBe(true);
    expect(seen.agentRows.map((row) => row.split('\t'))).toEqual([
      ['0', '0:1/2', 'pid 4242', '10', '4810', '480', '1.30 ms ± 2.00 ms', '0.00 ms', 'done (exited with code 0)'],
      ['1', '1/2:1', 'pid 4243', '10', '96', '12', '—', '—', 'lost (killed by SIGKILL)'],
    ]);
  });
});
