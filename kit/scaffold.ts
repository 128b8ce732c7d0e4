/**
 * `lagstorm init game <name>`: writes a working game plug-in from kit/templates/game (the plug-in,
 * a demo server, a first scenario), with the name filled in. It never overwrites: if any file it
 * would write exists, it writes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../core/exit-codes';

const TEMPLATES = path.join(__dirname, 'templates', 'game');
const PLACEHOLDER = 'my-game';

export interface ScaffoldResult {
  dir: string;
  files: string[];
  scenario: string;
}

/** Writes the plug-in for game `name` into `dir`; InvalidInputError (nothing written) for a bad name or an existing file. */
export function scaffoldGame(name: string, dir: string): ScaffoldResult {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new InvalidInputError(`game name "${name}": use lowercase letters, digits and dashes, starting with a letter, e.g. "space-miners"`);
  const target = path.resolve(dir);
  const plan = fs.readdirSync(TEMPLATES).map((template) => ({
    from: path.join(TEMPLATES, template),
    to: path.join(target, template.replace(PLACEHOLDER, name)),
  }));
  const existing = plan.filter((file) => fs.existsSync(file.to)).map((file) => file.to);
  if (fs.existsSync(target) && !fs.statSync(target).isDirectory()) existing.push(target);
  if (existing.length > 0) {
    throw new InvalidInputError(`init game: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing was written. Choose another --dir or name, or move the file${existing.length === 1 ? '' : 's'} away`);
  }
  fs.mkdirSync(target, { recursive: true });
  for (const file of plan) fs.writeFileSync(file.to, fs.readFileSync(file.from, 'utf8').replaceAll(PLACEHOLDER, name), { flag: 'wx' });
  const files = plan.map((file) => file.to);
  return { dir: target, files, scenario: files.find((file) => file.endsWith('.scenario.ts'))! };
}
