/**
 * The bot core, the game port and the reference game's client and rules must stay free of Node APIs
 * so they can be bundled for k6 / browsers. (The client's testing/ folder runs a real `ws` server.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.join(__dirname, '..', '..');
const ROOTS = ['bots/core', 'games/reference/client', 'games/reference/rules'].map((dir) => path.join(REPO, dir));
const FILES = ['core/game.ts', 'core/clock.ts', 'core/rng.ts', 'core/distributions.ts', 'core/websocket-like.ts', 'games/reference/actions.ts', 'games/reference/profiles.ts'].map((file) => path.join(REPO, file));
const EXCLUDED = new Set([path.join(REPO, 'games/reference/client/testing')]);
const NODE_ONLY = /(?:from\s+|require\(\s*|import\(\s*)['"](node:[^'"]+|fs|path|os|net|http|https|worker_threads|perf_hooks|child_process|crypto|ws|prom-client|hdr-histogram-js)['"]/;
const NODE_GLOBALS = /\b(process\.|Buffer\.|__dirname|setImmediate\()/;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return EXCLUDED.has(full) ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

test('the bot core, the game port and the reference client and rules import no Node modules and use no Node globals', () => {
  const files = [...ROOTS.flatMap(sourceFiles), ...FILES];
  expect(files.length).toBeGreaterThanOrEqual(16);
  expect(files.some((file) => file.includes(`${path.sep}testing${path.sep}`))).toBe(false);
  const offenders = files.flatMap((file) =>
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .map((line, i) => ({ line, at: `${path.relative(process.cwd(), file)}:${i + 1}` }))
      .filter(({ line }) => !line.trim().startsWith('*') && !line.trim().startsWith('//') && (NODE_ONLY.test(line) || NODE_GLOBALS.test(line)))
      .map(({ at, line }) => `${at}: ${line.trim()}`),
  );
  expect(offenders).toEqual([]);
});

test('the scan itself catches a Node import', () => {
  expect(NODE_ONLY.test(`import * as fs from 'node:fs';`)).toBe(true);
  expect(NODE_ONLY.test(`import { Worker } from 'worker_threads';`)).toBe(true);
  expect(NODE_ONLY.test(`import { defineGame } from '../../core/game';`)).toBe(false);
});
