import fs from 'node:fs';
import path from 'node:path';

/** Every file under verdict/ (tests and helpers too) and the folders it imports from. */
function importsOf(dir: string): Array<{ file: string; target: string }> {
  const found: Array<{ file: string; target: string }> = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...importsOf(full));
    else if (entry.name.endsWith('.ts')) {
      const text = fs.readFileSync(full, 'utf8');
      for (const match of text.matchAll(/(?:from\s+|import\(\s*|require\(\s*)['"]([^'"]+)['"]/g)) {
        if (match[1].startsWith('.')) found.push({ file: path.relative(__dirname, full), target: path.relative(path.join(__dirname, '..'), path.resolve(dir, match[1])) });
      }
    }
  }
  return found;
}

describe('verdict/ layering', () => {
  it('imports no game plug-in, stack, bots or chaos: checkers read the history, the features and an opaque final state', () => {
    const imports = importsOf(__dirname);
    expect(imports.length).toBeGreaterThan(20);
    const forbidden = imports.filter(({ target }) => /^(games|stack|bots|chaos)(\/|$)/.test(target));
    expect(forbidden).toEqual([]);
  });
});
