/**
 * Self-test and incident scenarios on the containers runtime, through the real CLI: three planted
 * defects of the reference backend (in its image) are caught by their intended checkers, and an
 * incident scenario passes, as on the process runtime.
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
beforeEach(() => (out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-containers-selftest-'))));
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

async function runOnContainers(file: string): Promise<{ code: number | null; summary: Summary }> {
  const result = await runCli(['run', file, '--runtime', 'containers', '--seed', '1', '--out', out], { timeoutMs: 240_000 });
  const summary = JSON.parse(fs.readFileSync(path.join(fs.realpathSync(path.join(out, 'latest')), 'summary.json'), 'utf8')) as Summary;
  return { code: result.code, summary };
}

describe('the self-test on the containers runtime', () => {
  it.each(['no-dedup', 'nonatomic-gift', 'ipv4-only'])('catches the planted defect %s through its intended checker', async (defect) => {
    const file = path.join('games', 'reference', 'self-test', `${defect}.scenario.ts`);
    const caughtBy = (require(path.resolve(file)) as { caughtBy: string[] }).caughtBy;
    const { code, summary } = await runOnContainers(file);
    const failed = summary.checks.filter((check) => check.valid === false).map((check) => check.name);
    expect({ code, verdict: summary.verdict, errors: summary.errors, caught: failed.some((name) => caughtBy.includes(name)) }).toEqual({ code: 1, verdict: 'fail', errors: [], caught: true });
  }, 300_000);

  it('passes the IPv6-only incident (every session through [::1])', async () => {
    const { code, summary } = await runOnContainers(path.join('scenarios', 'incidents', 'ipv6-only.scenario.ts'));
    const failing = [...summary.checks.filter((c) => c.valid !== true && c.valid !== 'n/a').map((c) => c.name), ...summary.slos.filter((s) => s.ok !== true).map((s) => s.metric)];
    expect({ code, verdict: summary.verdict, errors: summary.errors, failing }).toEqual({ code: 0, verdict: 'pass', errors: [], failing: [] });
  }, 300_000);
});
