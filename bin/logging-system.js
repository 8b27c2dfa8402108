#!/usr/bin/env node
// Thin entry point: everything, argument parsing included, lives in src/cli (compiled to dist/).
import { runCliProcess } from '../dist/cli/process.js'

await runCliProcess(process.argv.slice(2))
