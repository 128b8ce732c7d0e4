/**
 * The repo files an entry point imports (relative imports only, followed transitively), so the
 * backend image holds exactly the runtime files it needs and its hash changes only when they do.
 */
import fs from 'node:fs';
import path from 'node:path';

const IMPORT = /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s)?\s*['"](\.{1,2}\/[^'"]+)['"]|(?:require|import)\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;
const EXTENSIONS = ['', '.ts', '.js', '.json', '/index.ts', '/index.js'];

function resolve(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  return EXTENSIONS.map((ext) => base + ext).find((file) => fs.existsSync(file) && fs.statSync(file).isFile());
}

/** Every file reachable from `entries` through relative imports, as paths relative to `root`, sorted. */
export function sourceClosure(root: string, entries: string[]): string[] {
  const seen = new Set<string>();
  const queue = entries.map((entry) => path.resolve(root, entry));
  while (queue.length) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.(ts|js)$/.test(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const target = resolve(file, match[1] ?? match[2]);
      if (target && !seen.has(target)) queue.push(target);
    }
  }
  return [...seen].map((file) => path.relative(root, file)).sort();
}
