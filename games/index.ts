/**
 * The bundled game plug-ins. A scenario's `game` is one of these names or a path to a module
 * exporting `defineGame({...})`; only the composition root reads this file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../core/exit-codes';
import { loadGameModule } from '../bots/load-game';
import type { GameCatalog } from '../core/parts';

const BUNDLED: Record<string, string> = {
  reference: path.join(__dirname, 'reference', 'index.ts'),
  colyseus: path.join(__dirname, 'colyseus', 'index.ts'),
};

export const bundledGames: GameCatalog = {
  names: () => Object.keys(BUNDLED),
  resolve(nameOrPath, baseDir) {
    if (BUNDLED[nameOrPath]) return BUNDLED[nameOrPath];
    const looksLikePath = /[./\\]/.test(nameOrPath);
    if (!looksLikePath) throw new InvalidInputError(`game: "${nameOrPath}" is not a bundled game (${Object.keys(BUNDLED).join(', ')}); name one, or give a path to your plug-in module, e.g. "./games/my-game.ts"`);
    const file = path.resolve(baseDir, nameOrPath);
    const found = ['', '.ts', '.js', '/index.ts', '/index.js'].map((ext) => file + ext).find((candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile());
    if (!found) throw new InvalidInputError(`game: ${file} does not exist (paths are relative to the scenario file); point it at a module that exports defineGame({...})`);
    return found;
  },
  load: loadGameModule,
};
