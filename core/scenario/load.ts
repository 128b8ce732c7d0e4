/** Loads a scenario from a *.scenario.ts / .js module (default export) or a .json file. */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../exit-codes';

export function loadScenarioInput(file: string): unknown {
  const resolved = path.resolve(file);
  if (!fs.existsSync(resolved)) {
    throw new InvalidInputError(`scenario file not found: ${file}; pass a path like scenarios/smoke.scenario.ts (ls scenarios/ lists the bundled ones)`);
  }
  const extension = path.extname(resolved);
  if (extension === '.json') {
    const text = fs.readFileSync(resolved, 'utf8');
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new InvalidInputError(`${file} is not valid JSON: ${(error as Error).message}; fix the syntax (a trailing comma or a missing quote is the usual cause)`);
    }
  }
  if (!['.ts', '.js', '.cjs', '.mts'].includes(extension)) {
    throw new InvalidInputError(`${file}: a scenario is a .scenario.ts, .js or .json file, not "${extension || 'no extension'}"`);
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = require(resolved) as Record<string, unknown>;
  } catch (error) {
    const message = (error as Error).message.split('\n').slice(0, 6).join('\n');
    throw new InvalidInputError(`${file} could not be loaded: ${message}\nfix the error above; a scenario file must \`export default defineScenario({...})\``);
  }
  const scenario = loaded.default ?? loaded.scenario;
  if (scenario === undefined) {
    throw new InvalidInputError(`${file} has no default export; write \`export default defineScenario({ ... })\``);
  }
  return scenario;
}
