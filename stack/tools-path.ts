/**
 * Where the external tools of the stack live: the repo's own .tools/bin (filled by `lagstorm setup`)
 * wins over PATH, so a pinned version is used when present.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HarnessError } from '../core/exit-codes';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const TOOLS_BIN_DIR = path.join(REPO_ROOT, '.tools', 'bin');

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
