/**
 * The dependency rules of DESIGN.md, checked on every import: the harness never imports a game
 * (games plug in through core/game.ts; only the composition root names the bundled ones), and
 * checks and reports read history and run metadata, never the stack, the bots or the faults.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"](\.[^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(full);
    return /\.(ts|js)$/.test(entry.name) ? [full] : [];
  });
}

/** Top-level folder of every relative import in `folder`, as `file → folder/...`. */
function importsInto(folder: string, forbidden: readonly string[], options: { tests?: boolean } = {}): string[] {
  const files = sourceFiles(path.join(ROOT, folder)).filter((file) => options.tests !== false || !file.endsWith('.test.ts'));
  return files.flatMap((file) => {
    const text = fs.readFileSync(file, 'utf8');
    return [...text.matchAll(IMPORT)].flatMap(([, spec]) => {
      const target = path.relative(ROOT, path.resolve(path.dirname(file), spec));
      const top = target.split(path.sep)[0];
      return forbidden.includes(top) ? [`${path.relative(ROOT, file)} → ${target}`] : [];
    });
  });
}

const HARNESS = ['core', 'kit', 'bots', 'agents', 'chaos', 'stack', 'verdict', 'reports', 'dashboards'];

test.each(HARNESS)('%s/ imports nothing from games/', (folder) => {
  expect(importsInto(folder, ['games'])).toEqual([]);
});

// Integration tests may start a real Prometheus from stack/; the code they test may not.
test.each(['verdict', 'reports', 'dashboards'])('%s/ never imports the stack, the bots or the faults', (folder) => {
  expect(importsInto(folder, ['stack', 'bots', 'chaos'], { tests: false })).toEqual([]);
});

test('the rule catches an import into games/ (a file written for the test)', () => {
  const probe = path.join(ROOT, 'core', '__boundary-probe__.ts');
  fs.writeFileSync(probe, "import game from '../games/reference';\nexport default game;\n");
  try {
    expect(importsInto('core', ['games'])).toEqual(['core/__boundary-probe__.ts → games/reference']);
  } finally {
    fs.unlinkSync(probe);
  }
});
