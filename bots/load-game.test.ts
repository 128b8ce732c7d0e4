import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadGameModule, profileOf } from './load-game';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-load-game-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function moduleFile(name: string, source: string): string {
  const file = path.join(dir, `${name}.js`);
  fs.writeFileSync(file, source);
  return file;
}

test('loads the default export of a game module, once per path', () => {
  const file = path.join(__dirname, 'testing', 'fake-game.ts');
  const game = loadGameModule(file);
  expect(game.name).toBe('fake');
  expect(loadGameModule(file)).toBe(game);
  expect(profileOf(game, 'steady').name).toBe('steady');
  expect(() => profileOf(game, 'casual')).toThrow(/unknown bot profile "casual" for game "fake"; use one of: steady, churny/);
});

test('a module without a game, or with a missing field, is refused naming the module and the field', () => {
  const none = moduleFile('none', 'module.exports = { other: 1 };');
  expect(() => loadGameModule(none)).toThrow(new RegExp(`game module ${none} has no default export`));
  const noClient = moduleFile('no-client', `exports.default = { name: 'x', description: 'x', actions: { a: { description: 'a' } }, profiles: {} };`);
  expect(() => loadGameModule(noClient)).toThrow(/no-client\.js: client is missing or not a function/);
  const noProfiles = moduleFile('no-profiles', `exports.game = { name: 'x', description: 'x', client: () => ({}), actions: { a: { description: 'a' } }, profiles: {} };`);
  expect(() => loadGameModule(noProfiles)).toThrow(/no-profiles\.js: profiles is missing or not an object with at least one behaviour profile/);
  const badMix = moduleFile(
    'bad-mix',
    `exports.default = { name: 'x', description: 'x', client: () => ({}), actions: { a: { description: 'a' } }, profiles: { p: { name: 'p', description: 'p', mix: [{ action: 'b', weight: 1 }] } } };`,
  );
  expect(() => loadGameModule(badMix)).toThrow(/bad-mix\.js: profiles\.p: profile "p": the mix names action "b", which the game does not have; use one of: a/);
  expect(() => loadGameModule(path.join(dir, 'missing.js'))).toThrow(/game module .*missing\.js could not be loaded/);
});
