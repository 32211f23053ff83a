import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { QM_SEARCH_ATTRIBUTES } from '../../../src/search-attributes';

// No Docker engine runs in CI, so docker-compose.yml is kept honest by checking its structure here.
const root = path.join(__dirname, '..', '..', '..');
interface Service {
  image?: string;
  build?: string;
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string>;
  command?: string[];
}
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const services = compose.services;

test('every service has an image or a build, and depends only on services that exist', () => {
  expect(Object.keys(services).sort()).toEqual([
    'postgresql',
    'temporal',
    'temporal-setup',
    'temporal-ui',
    'worker',
  ]);
  for (const [name, s] of Object.entries(services)) {
    expect([name, Boolean(s.image ?? s.build)]).toEqual([name, true]);
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const d of deps) expect(Object.keys(services)).toContain(d);
  }
});

test('the setup step registers exactly the search attributes the workflows write', () => {
  const script = services['temporal-setup']?.command?.join(' ') ?? '';
  for (const [name, type] of Object.entries(QM_SEARCH_ATTRIBUTES))
    expect(script).toContain(`${name}=${type}`);
  expect(script.match(/Qm[A-Za-z]+=/g)?.length).toBe(Object.keys(QM_SEARCH_ATTRIBUTES).length);
});

test("the worker's DATABASE_URL matches the role and database the init script creates", () => {
  const url = new URL(services.worker?.environment?.DATABASE_URL ?? '');
  const init = readFileSync(path.join(root, 'deploy', 'postgres-init.sql'), 'utf8');
  expect(init).toContain(`CREATE ROLE ${url.username} LOGIN PASSWORD '${url.password}'`);
  expect(init).toContain(`CREATE DATABASE ${url.pathname.slice(1)} OWNER ${url.username}`);
  expect(url.hostname).toBe('postgresql');
  expect(services.worker?.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
});

test('the Dockerfile copies every folder the build compiles', () => {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')) as {
    include: string[];
  };
  for (const dir of tsconfig.include) expect(dockerfile).toContain(`COPY ${dir} ./${dir}`);
});
