#!/usr/bin/env node
// Runs a TypeScript entry point (benchmarks, backend) without a build step: node bin/run-ts.js [--lean-heap] file.ts [args]
require('tsx/cjs');
const path = require('node:path');
// --lean-heap: the fleet's heap profile (bots/fleet/lean-heap.ts), for bench processes that host bots as
// `lagstorm run` does; set before the entry's modules load. Never for a backend under test.
if (process.argv[2] === '--lean-heap') {
  process.argv.splice(2, 1);
  require('../bots/fleet/lean-heap.ts').keepHeapLeanOrExit();
}
const file = process.argv[2];
if (!file) { console.error('usage: node bin/run-ts.js [--lean-heap] <file.ts> [args...]'); process.exit(3); }
process.argv.splice(1, 1);
require(path.resolve(file));
