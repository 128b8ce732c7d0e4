/**
 * An incident scenario on the containers runtime, through the real CLI, passes as on the process
 * runtime. Every self-test scenario runs on containers in selftest.test.ts, compared row by row with
 * the process runtime's verdicts for the same seeds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureImages } from '../stack/images/images';
import { runCli } from './run-cli';

interface Summary {
  verdict: string;
  errors: string[];
  checks: Array<{ name: string; valid: unknown }>;
  slos: Array<{ metric: string; ok: unknown }>;
}

let out: string;
beforeAll(async () => {
  await ensureImages();
}, 900_000);
beforeEach(() => (out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-containers-incident-'))));
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

async function runOnContainers(file: string): Promise<{ code: number | null; summary: Summary }> {
  const result = await runCli(['run', file, '--runtime', 'containers', '--seed', '1', '--out', out], { timeoutMs: 240_000 });
  const summary = JSON.parse(fs.readFileSync(path.join(fs.realpathSync(path.join(out, 'latest')), 'summary.json'), 'utf8')) as Summary;
  return { code: result.code, summary };
}

describe('an incident scenario on the containers runtime', () => {
  it('passes the IPv6-only incident (every session through [::1])', async () => {
    const { code, summary } = await runOnContainers(path.join('scenarios', 'incidents', 'ipv6-only.scenario.ts'));
    const failing = [...summary.checks.filter((c) => c.valid !== true && c.valid !== 'n/a').map((c) => c.name), ...summary.slos.filter((s) => s.ok !== true).map((s) => s.metric)];
    expect({ code, verdict: summary.verdict, errors: summary.errors, failing }).toEqual({ code: 0, verdict: 'pass', errors: [], failing: [] });
  }, 300_000);
});
