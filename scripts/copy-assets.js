// Copies non-TypeScript assets (SQL migrations) next to the compiled code in dist/.
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
for (const dir of ['src/ledger/migrations']) {
  const from = path.join(root, dir);
  const to = path.join(root, 'dist', dir);
  fs.mkdirSync(to, { recursive: true });
  for (const file of fs.readdirSync(from)) fs.copyFileSync(path.join(from, file), path.join(to, file));
}
