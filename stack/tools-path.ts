/**
 * Where the external tools of the stack live: the tools cache's bin/ (filled by `lagstorm setup`)
 * wins over PATH, so a pinned version is used when present.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HarnessError } from '../core/exit-codes';

/** lagstorm's own folder: a checkout of this repo, or node_modules/lagstorm in a studio's project. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/**
 * The tools cache (toxiproxy-server in bin/, image build logs in images/): `$LAGSTORM_CACHE_DIR` if
 * set; in a checkout of this repo its own `.tools/` (git-ignored; .ci/run and the containers images
 * use it); installed as a dependency `$XDG_CACHE_HOME/lagstorm` or `~/.cache/lagstorm`, never inside
 * node_modules (an `npm ci` would wipe it).
 */
export function toolsHome(env: NodeJS.ProcessEnv = process.env, root = REPO_ROOT): string {
  if (env.LAGSTORM_CACHE_DIR) return path.resolve(env.LAGSTORM_CACHE_DIR);
  if (!root.split(path.sep).includes('node_modules')) return path.join(root, '.tools');
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'lagstorm');
}

export const TOOLS_HOME = toolsHome();
export const TOOLS_BIN_DIR = path.join(TOOLS_HOME, 'bin');

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The path of a tool, or undefined when it is nowhere to be found. */
export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    path.join(TOOLS_BIN_DIR, name),
    ...(env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, name)),
  ];
  return candidates.find(isExecutable);
}

/** The path of a tool; a HarnessError telling how to get it when it is missing. */
export function resolveTool(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const found = findTool(name, env);
  if (!found) throw new HarnessError(`${name} not found in ${TOOLS_BIN_DIR} or on PATH; run \`lagstorm setup\` to install it (\`lagstorm doctor\` lists what is missing)`);
  return found;
}
