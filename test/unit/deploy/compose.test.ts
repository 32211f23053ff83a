import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { QM_SEARCH_ATTRIBUTES } from '../../../src/search-attributes';

// No Docker engine runs in CI, so docker-compose.yml is kept honest by checking its structure here.
const root = path.join(__dirname, '..', '..', '..');
interface Service {
  image?: string;
  volumes?: string[];
  expose?: string[];
  ports?: string[];
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
    'grafana',
    'postgresql',
    'prometheus',
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

/** `./host/path:/container/path[:ro]` → [host path relative to the repository, container path]. */
function mounts(service: Service | undefined): Array<[string, string]> {
  return (service?.volumes ?? [])
    .filter((v) => v.startsWith('./'))
    .map((v) => {
      const [host, container] = v.split(':');
      return [host as string, container as string];
    });
}

test("Prometheus scrapes the workers' --metrics-port from a config file that exists", () => {
  const command = services.worker?.command ?? [];
  const port = command[command.indexOf('--metrics-port') + 1];
  expect(port).toMatch(/^\d+$/);
  expect(services.worker?.expose).toContain(port);
  const config = mounts(services.prometheus).find(([, c]) => c === '/etc/prometheus/prometheus.yml');
  expect(config).toBeDefined();
  const prometheus = parse(readFileSync(path.join(root, config?.[0] ?? ''), 'utf8')) as {
    scrape_configs: Array<{
      metrics_path?: string;
      dns_sd_configs?: Array<{ names: string[]; port: number }>;
    }>;
  };
  const job = prometheus.scrape_configs[0];
  expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
  expect(job?.dns_sd_configs?.[0]).toEqual(
    expect.objectContaining({ names: ['worker'], port: Number(port) }),
  );
});

test('Grafana provisions the Prometheus datasource and loads the dashboard file', () => {
  const volumes = mounts(services.grafana);
  for (const [host] of volumes) expect([host, existsSync(path.join(root, host))]).toEqual([host, true]);
  const provisioning = volumes.find(([, c]) => c === '/etc/grafana/provisioning');
  const dashboard = volumes.find(([h]) => h === './deploy/grafana/quartermaster.json');
  expect(provisioning).toBeDefined();
  expect(dashboard).toBeDefined();
  const provider = parse(
    readFileSync(path.join(root, provisioning?.[0] ?? '', 'dashboards', 'quartermaster.yml'), 'utf8'),
  ) as { providers: Array<{ options: { path: string } }> };
  expect(path.dirname(dashboard?.[1] ?? '')).toBe(provider.providers[0]?.options.path);
  const datasource = parse(
    readFileSync(path.join(root, provisioning?.[0] ?? '', 'datasources', 'prometheus.yml'), 'utf8'),
  ) as { datasources: Array<{ type: string; url: string }> };
  expect(datasource.datasources[0]).toEqual(
    expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' }),
  );
  expect(services.prometheus?.ports?.[0]).toMatch(/:9090$/);
});
