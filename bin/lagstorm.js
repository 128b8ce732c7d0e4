#!/usr/bin/env node
// Registers tsx so the CLI, scenario files, game plug-ins and worker threads run straight from
// TypeScript (README "Install as a dependency": why lagstorm ships TypeScript, not compiled JS).
// main() is called here, not on import: through npx, argv[1] is node_modules/.bin/lagstorm.
require('tsx/cjs');
// Before the CLI's modules load: loading them would already grow V8's young generation (bots/fleet/lean-heap.ts).
try {
  require('../bots/fleet/lean-heap.ts').keepHeapLean();
} catch (error) {
  console.error(`lagstorm: ${error.message}`);
  process.exit(3);
}
require('../cli/main.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
