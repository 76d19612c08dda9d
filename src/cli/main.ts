#!/usr/bin/env node
/** The `purequic` executable (see `run.ts` for the commands). */
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2));
