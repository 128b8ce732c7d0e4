/**
 * The host's apt configuration, so that debootstrap and apt inside image builds use the same
 * mirror and the same proxy / validity settings as the host (no other route out exists here).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface AptConfig {
  /** The Debian mirror for `bookworm` (first match in sources.list(.d)). */
  mirror: string;
  /** Files to place under /etc/apt in the image, path relative to /etc/apt → content. */
  files: Record<string, string>;
  /** Keyrings the copied sources name (Signed-By), absolute path → content (base64). */
  keyrings: Record<string, string>;
}

const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

/** The first mirror that serves `suite`, from one-line (.list) or deb822 (.sources) entries. */
export function findMirror(files: Record<string, string>, suite = 'bookworm'): string | undefined {
  for (const text of Object.values(files)) {
    for (const line of text.split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (m && m[2] === suite) return m[1];
    }
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim();
      if (!/\bdeb\b/.test(field('Types') ?? '') || /^no$/i.test(field('Enabled') ?? '')) continue;
      if ((field('Suites') ?? '').split(/\s+/).includes(suite)) return field('URIs')?.split(/\s+/)[0];
    }
  }
  return undefined;
}

/** Reads /etc/apt (or `root` in tests): enabled source files and apt.conf.d files that set Acquire:: options. */
export function readAptConfig(root = '/etc/apt'): AptConfig {
  const files: Record<string, string> = {};
  const read = (rel: string) => {
    try {
      files[rel] = fs.readFileSync(path.join(root, rel), 'utf8');
    } catch {
      /* absent */
    }
  };
  read('sources.list');
  const list = (dir: string) => (fs.existsSync(path.join(root, dir)) ? fs.readdirSync(path.join(root, dir)).sort() : []);
  // Only names apt itself reads: *.list / *.sources (a "x.list.disabled" file is ignored by apt, so by us too).
  for (const name of list('sources.list.d')) if (/\.(list|sources)$/.test(name)) read(`sources.list.d/${name}`);
  for (const name of list('apt.conf.d')) {
    const rel = `apt.conf.d/${name}`;
    const text = fs.readFileSync(path.join(root, rel), 'utf8');
    if (/Acquire::/i.test(text)) files[rel] = text;
  }
  if (fs.existsSync(path.join(root, 'apt.conf'))) read('apt.conf');
  const keyrings: Record<string, string> = {};
  for (const text of Object.values(files)) {
    for (const m of text.matchAll(/(?:Signed-By:\s*|signed-by=)(\/\S+?)(?=[\s\]]|$)/gim)) {
      if (fs.existsSync(m[1])) keyrings[m[1]] = fs.readFileSync(m[1]).toString('base64');
    }
  }
  return { mirror: findMirror(files) ?? DEFAULT_MIRROR, files, keyrings };
}
