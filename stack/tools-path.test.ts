import path from 'node:path';
import os from 'node:os';
import { toolsHome } from './tools-path';

describe('toolsHome', () => {
  it('is the checkout\'s own .tools, the user cache when installed in node_modules, and LAGSTORM_CACHE_DIR when set', () => {
    expect(toolsHome({}, '/src/lagstorm')).toBe('/src/lagstorm/.tools');
    expect(toolsHome({ XDG_CACHE_HOME: '/home/a/.xdg' }, '/p/node_modules/lagstorm')).toBe('/home/a/.xdg/lagstorm');
    expect(toolsHome({}, '/p/node_modules/lagstorm')).toBe(path.join(os.homedir(), '.cache', 'lagstorm'));
    expect(toolsHome({ LAGSTORM_CACHE_DIR: '/opt/ls', XDG_CACHE_HOME: '/x' }, '/p/node_modules/lagstorm')).toBe('/opt/ls');
  });
});
