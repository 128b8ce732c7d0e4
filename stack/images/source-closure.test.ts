import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sourceClosure } from './source-closure';

describe('sourceClosure', () => {
  it('follows relative imports, exports, requires and index files; ignores packages and unreached files', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-closure-'));
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    };
    try {
      write('bin/run.js', "require('tsx/cjs');\nconst x = require('../lib/helper');\n");
      write('lib/helper.js', 'module.exports = 1;\n');
      write('src/main.ts', "import { a } from './a';\nimport type { T } from './types';\nexport * from './util';\nimport pg from 'pg';\n");
      write('src/a.ts', "import { b } from '../shared';\nexport const a = b;\n");
      write('shared/index.ts', 'export const b = 1;\n');
      write('src/types.ts', 'export type T = 1;\n');
      write('src/util.ts', 'export const u = 1;\n');
      write('src/unused.ts', 'export const never = 1;\n');
      expect(sourceClosure(root, ['bin/run.js', 'src/main.ts'])).toEqual(['bin/run.js', 'lib/helper.js', 'shared/index.ts', 'src/a.ts', 'src/main.ts', 'src/types.ts', 'src/util.ts']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
