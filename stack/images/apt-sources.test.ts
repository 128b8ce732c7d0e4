import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findMirror, readAptConfig } from './apt-sources';

describe('findMirror', () => {
  it('reads deb822 .sources stanzas, skipping disabled ones and other suites', () => {
    const sources = [
      'Types: deb\nURIs: http://mirror.example/disabled\nSuites: bookworm\nComponents: main\nEnabled: no',
      'Types: deb\nURIs: http://mirror.example/security\nSuites: bookworm-security\nComponents: main',
      'Types: deb deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main',
    ].join('\n\n');
    expect(findMirror({ 'sources.list.d/debian.sources': sources })).toBe('http://mirror.example/debian');
  });

  it('reads one-line entries with options', () => {
    expect(findMirror({ 'sources.list': '# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main\n' })).toBe('http://one.example/debian');
  });

  it('is undefined when no source serves the suite', () => {
    expect(findMirror({ 'sources.list': 'deb http://one.example/debian trixie main\n' })).toBeUndefined();
  });
});

describe('readAptConfig', () => {
  it('copies sources apt reads and Acquire:: settings, not disabled files or unrelated hooks', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-apt-'));
    try {
      fs.mkdirSync(path.join(root, 'sources.list.d'));
      fs.mkdirSync(path.join(root, 'apt.conf.d'));
      fs.writeFileSync(path.join(root, 'sources.list.d', 'debian.sources'), 'Types: deb\nURIs: http://m.example/debian\nSuites: bookworm\nComponents: main\n');
      fs.writeFileSync(path.join(root, 'sources.list.d', 'vendor.list.disabled-by-farm'), 'deb http://vendor.example stable main\n');
      fs.writeFileSync(path.join(root, 'apt.conf.d', '01proxy'), 'Acquire::http::Proxy "http://127.0.0.1:3142";\n');
      fs.writeFileSync(path.join(root, 'apt.conf.d', '20hook'), 'DPkg::Post-Invoke { "true"; };\n');
      const config = readAptConfig(root);
      expect(config.mirror).toBe('http://m.example/debian');
      expect(Object.keys(config.files).sort()).toEqual(['apt.conf.d/01proxy', 'sources.list.d/debian.sources']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
