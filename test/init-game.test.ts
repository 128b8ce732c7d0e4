/**
 * `lagstorm init game`: the scaffolded plug-in runs out of the box through the real CLI to a pass,
 * and a second init into the same folder changes nothing (exit 3).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, runCli } from './run-cli';

describe('lagstorm init game', () => {
  let project: string;
  beforeAll(() => {
    // A studio's repo with lagstorm installed: node_modules/lagstorm (and its ws, hoisted as npm does).
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-init-'));
    fs.mkdirSync(path.join(project, 'node_modules'));
    fs.symlinkSync(REPO, path.join(project, 'node_modules', 'lagstorm'));
    fs.symlinkSync(path.join(REPO, 'node_modules', 'ws'), path.join(project, 'node_modules', 'ws'));
  });
  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

  it('scaffolds a plug-in whose scenario runs to a pass', async () => {
    const dir = path.join(project, 'load', 'space-miners');
    const init = await runCli(['init', 'game', 'space-miners', '--dir', dir], { timeoutMs: 30_000 });
    expect(init.code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['index.ts', 'server.ts', 'space-miners.scenario.ts']);
    expect(init.stdout).toContain('space-miners.scenario.ts');

    const out = path.join(project, 'runs');
    const run = await runCli(['run', path.join(dir, 'space-miners.scenario.ts'), '--seed', '1', '--out', out], { timeoutMs: 110_000 });
    const summary = JSON.parse(fs.readFileSync(path.join(fs.realpathSync(path.join(out, 'latest')), 'summary.json'), 'utf8'));
    expect({ code: run.code, verdict: summary.verdict, errors: summary.errors, failing: summary.checks.filter((c: { valid: unknown }) => c.valid === false) }).toEqual({ code: 0, verdict: 'pass', errors: [], failing: [] });
    expect(summary.game).toBe('space-miners');
    expect(Object.fromEntries(summary.checks.map((c: { name: string; valid: unknown }) => [c.name, c.valid]))).toMatchObject({ 'acked-effects': true, recovery: true });
  }, 150_000);

  it('refuses to overwrite: exit 3, names the files, changes nothing', async () => {
    const dir = path.join(project, 'taken');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'index.ts'), 'mine\n');
    const result = await runCli(['init', 'game', 'taken', '--dir', dir], { timeoutMs: 30_000 });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/index\.ts already exists; nothing was written/);
    expect(fs.readdirSync(dir)).toEqual(['index.ts']);
    expect(fs.readFileSync(path.join(dir, 'index.ts'), 'utf8')).toBe('mine\n');
  }, 60_000);
});
