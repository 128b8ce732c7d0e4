/** An example Prometheus config for users' own setups: the three jobs the dashboards expect. */
export interface ScrapeTargetsExample {
  backend: string;
  bots: string;
  postgres: string;
  scrapeIntervalSeconds: number;
}

const DEFAULT_TARGETS: ScrapeTargetsExample = {
  backend: '127.0.0.1:9464',
  bots: '127.0.0.1:9465',
  postgres: '127.0.0.1:9187',
  scrapeIntervalSeconds: 1,
};

export function prometheusScrapeConfigExample(targets: Partial<ScrapeTargetsExample> = {}): string {
  const t = { ...DEFAULT_TARGETS, ...targets };
  return [
    '# Example Prometheus config for the lagstorm dashboards (adjust targets to your setup).',
    '# job names matter: panels filter on job="backend" for process metrics.',
    'global:',
    `  scrape_interval: ${t.scrapeIntervalSeconds}s`,
    `  evaluation_interval: ${t.scrapeIntervalSeconds}s`,
    'scrape_configs:',
    '  - job_name: backend # the game server: <admin>/metrics',
    '    static_configs:',
    `      - targets: ['${t.backend}']`,
    '  - job_name: bots # the lagstorm bot fleet: <fleet>/metrics',
    '    static_configs:',
    `      - targets: ['${t.bots}']`,
    '  - job_name: postgres # the lagstorm PostgreSQL collector (startPostgresExporter)',
    '    static_configs:',
    `      - targets: ['${t.postgres}']`,
    '',
  ].join('\n');
}
