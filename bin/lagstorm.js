#!/usr/bin/env node
// Registers tsx so the CLI, scenario files and worker threads run straight from TypeScript.
require('tsx/cjs');
require('../cli/main.ts');
