/**
 * lagstorm as a dependency of a studio's repo, the new user's path end to end: `npm pack`, install
 * the tarball into a fresh project, `npx lagstorm doctor`, `npx lagstorm init game demo`, then
 * `npx lagstorm run` of the scaffolded scenario to a verdict. Everything runs from node_modules
 * (tsx, worker threads, the plug-in importing 'lagstorm'); tools come from the tools cache.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './run-cli';

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`${command} ${args.join(' ')} timed out\n${out}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('the npm package', () => {
  let project: string;
  let tarball: string;
  beforeAll(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-package-'));
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', project], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(project, packed[0].filename);
    fs.writeFileSync(path.join(project, 'files.json'), JSON.stringify(packed[0].files.map((file) => file.path)));
  }, 60_000);
  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

  it('ships the runtime, bundled scenarios and games, and no tests, bench results or .ci', () => {
    const files = JSON.parse(fs.readFileSync(path.join(project, 'files.json'), 'utf8')) as string[];
    expect(files).toEqual(expect.arrayContaining(['bin/lagstorm.js', 'cli/main.ts', 'core/index.ts', 'kit/templates/game/index.ts', 'scenarios/smoke.scenario.ts', 'games/reference/server/main.ts', 'README.md', 'package.json']));
    expect(files.filter((file) => /\.test\.ts$|^test\/|^bench\/|^\.ci\/|\/testing\/|^runs\/|^\.tools\//.test(file))).toEqual([]);
  });

  it('installs into a fresh project and takes a new user from init game to a verdict', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, npm_config_yes: 'false' };
    // The tools `lagstorm setup` built for this checkout (toxiproxy-server): the user's cache stands in.
    if (fs.existsSync(path.join(REPO, '.tools', 'bin', 'toxiproxy-server'))) env.LAGSTORM_CACHE_DIR = path.join(REPO, '.tools');
    delete env.NODE_OPTIONS; // jest's; the user's shell has none
    const began = Date.now();
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'studio-backend', version: '1.0.0', private: true }));
    const install = await run('npm', ['install', '--save-dev', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], project, env, 240_000);
    expect({ code: install.code, out: install.code === 0 ? '' : install.out }).toEqual({ code: 0, out: '' });
    const installed = Date.now();

    const doctor = await run('npx', ['--no', 'lagstorm', 'doctor'], project, env, 60_000);
    expect({ code: doctor.code, out: doctor.code === 0 ? '' : doctor.out }).toEqual({ code: 0, out: '' });
    const init = await run('npx', ['--no', 'lagstorm', 'init', 'game', 'demo'], project, env, 60_000);
    expect(init.code).toBe(0);
    expect(init.out).toContain('npx lagstorm run demo/demo.scenario.ts');
    const verdict = await run('npx', ['--no', 'lagstorm', 'run', 'demo/demo.scenario.ts', '--seed', '2'], project, env, 150_000);
    expect({ code: verdict.code, out: verdict.code === 0 ? '' : verdict.out }).toEqual({ code: 0, out: '' });
    expect(verdict.out).toMatch(/verdict: PASS \(exit 0\)/);
    // Run folders land in the user's project, not in node_modules.
    expect(fs.existsSync(path.join(project, 'runs', 'latest', 'summary.json'))).toBe(true);
    expect(fs.existsSync(path.join(project, 'node_modules', 'lagstorm', 'runs'))).toBe(false);
    const seconds = (ms: number) => (ms / 1000).toFixed(1);
    process.stdout.write(`new-user path: npm install ${seconds(installed - began)} s, doctor + init game + run to a verdict ${seconds(Date.now() - installed)} s, total ${seconds(Date.now() - began)} s\n`);
  }, 480_000);
});
