/**
 * `qm` exits 3 naming the address when Temporal or PostgreSQL cannot be reached, within 5 s by default (it
 * exited 1 after 11.6 s without naming it). The "server" here accepts connections and never answers, the
 * worst case (a refused port fails fast anyway).
 */
import net from 'node:net';
import { main } from '../../../src/cli/main';

let server: net.Server;
let port: number;
const sockets: net.Socket[] = [];

beforeAll(async () => {
  server = net.createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

function captureStderr(): { text(): string; restore(): void } {
  let out = '';
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  return { text: () => out, restore: () => void (process.stderr.write = original) };
}

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

test('Temporal unreachable: exit 3 within 5 s, naming the address', async () => {
  process.env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
  const stderr = captureStderr();
  const started = Date.now();
  const code = await main(['status', 'some-id']).finally(() => stderr.restore());
  expect(code).toBe(3);
  expect(Date.now() - started).toBeLessThan(6_500);
  expect(stderr.text()).toContain(`cannot reach Temporal at 127.0.0.1:${port}`);
  expect(stderr.text()).toContain('--connect-timeout');
}, 15_000);

test('--connect-timeout shortens (or lengthens) the wait', async () => {
  process.env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
  const stderr = captureStderr();
  const started = Date.now();
  const code = await main(['--connect-timeout', '1', 'status', 'x']).finally(() => stderr.restore());
  expect(code).toBe(3);
  expect(Date.now() - started).toBeLessThan(3_000);
  expect(stderr.text()).toContain('waited 1 s');
}, 15_000);

test('PostgreSQL unreachable: exit 3 within 5 s, naming host:port/database but never the password', async () => {
  process.env.DATABASE_URL = `postgres://qm:s3cret@127.0.0.1:${port}/ledger`;
  const stderr = captureStderr();
  const started = Date.now();
  const code = await main(['nodes']).finally(() => stderr.restore());
  expect(code).toBe(3);
  expect(Date.now() - started).toBeLessThan(6_500);
  expect(stderr.text()).toContain(`cannot reach PostgreSQL at 127.0.0.1:${port}/ledger`);
  expect(stderr.text()).not.toContain('s3cret');
}, 15_000);
