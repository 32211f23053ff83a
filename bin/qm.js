#!/usr/bin/env node
// The `qm` command. `npm ci` builds dist/ (the `prepare` script), so this works right after install.
const path = require('node:path');
const { existsSync } = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('qm: dist/ is missing; run `npm run build` (npm ci does it for you)\n');
  process.exit(1);
}
const cli = require(entry);
const argv = process.argv.slice(2);
require(path.join(__dirname, '..', 'dist', 'src', 'cli', 'runtime.js'))
  .installCliRuntime(argv)
  .then(() => cli.main(argv))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.exitCode = cli.reportError(err);
    },
  );
