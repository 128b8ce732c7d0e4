#!/usr/bin/env node
// Registers tsx so the CLI, scenario files, game plug-ins and worker threads run straight from
// TypeScript (README "Install as a dependency": why lagstorm ships TypeScript, not compiled JS).
// main() is called here, not on import: through npx, argv[1] is node_modules/.bin/lagstorm.
require('tsx/cjs');
// The commands that host bots get the fleet's heap profile (bots/fleet/lean-heap.ts), set before the
// CLI's modules load (loading them already grows V8's young generation); the offline ones keep V8's.
if (['run', 'agent', 'capacity', 'replay', 'selftest'].includes(process.argv[2])) {
  require('../bots/fleet/lean-heap.ts').keepHeapLeanOrExit();
}
require('../cli/main.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
