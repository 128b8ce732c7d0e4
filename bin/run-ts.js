#!/usr/bin/env node
// Runs a TypeScript entry point (benchmarks, backend) without a build step: node bin/run-ts.js file.ts [args]
require('tsx/cjs');
// As bin/lagstorm.js: the benches measure the fleet as the CLI runs it.
try {
  require('../bots/fleet/lean-heap.ts').keepHeapLean();
} catch (error) {
  console.error(`lagstorm: ${error.message}`);
  process.exit(3);
}
const path = require('node:path');
const file = process.argv[2];
if (!file) { console.error('usage: node bin/run-ts.js <file.ts> [args...]'); process.exit(3); }
process.argv.splice(1, 1);
require(path.resolve(file));
