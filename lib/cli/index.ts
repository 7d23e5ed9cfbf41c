#!/usr/bin/env node
import { runAsProcess } from './main';

void runAsProcess(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
