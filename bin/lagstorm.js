#!/usr/bin/env node
// Registers tsx so the CLI, scenario files, game plug-ins and worker threads run straight from
// TypeScript (README "Install as a dependency": why lagstorm ships TypeScript, not compiled JS).
// main() is called here, not on import: through npx, argv[1] is node_modules/.bin/lagstorm.
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
