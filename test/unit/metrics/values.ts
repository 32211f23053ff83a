import type { Registry } from 'prom-client';

/** The value of one series (`name` with exactly these labels, `le` excluded) in a registry, or undefined. */
export async function valueOf(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const base = name.replace(/_(count|sum)$/, '');
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === base || m.name === name);
  if (metric === undefined) return undefined;
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const v of metric.values as Array<{
    metricName?: string;
    labels: Record<string, unknown>;
    value: number;
  }>) {
    if ((v.metricName ?? metric.name) !== name) continue;
    const got = JSON.stringify(
      Object.entries(v.labels)
        .filter(([k]) => k !== 'le')
        .map(([k, x]) => [k, String(x)])
        .sort(),
    );
    if (got === want) return v.value;
  }
  return undefined;
}
