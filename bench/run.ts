/**
 * `npm run bench [-- NAME...]`: runs the named benchmarks (all when none is named) and writes each one's
 * section of BENCHMARKS.md. Each benchmark is a module exporting `run(args): Promise<void>`.
 */
type Bench = { run(args: string[]): Promise<void> };

const BENCHES: Record<string, () => Promise<Bench>> = {
  // name: () => import('./name.js')  — the .js extension is what Node16 resolution wants for import() from
  // CommonJS; it resolves to name.ts when type-checking and to dist/bench/name.js at run time.
  monitor: () => import('./monitor.js'),
  ledger: () => import('./ledger.js'),
  scheduler: () => import('./scheduler.js'),
  quality: () => import('./quality.js'),
  swf: () => import('./swf.js'),
  'replay-speed': () => import('./replay-speed.js'),
  admission: () => import('./admission.js'),
  load: () => import('./load.js'),
  'cycle-db': () => import('./cycle-db.js'),
  'scheduler-soak': () => import('./scheduler-soak.js'),
  history: () => import('./history.js'),
  sharding: () => import('./sharding.js'),
  'sim-vs-real': () => import('./sim-vs-real.js'),
  metrics: () => import('./metrics-overhead.js'),
  release: () => import('./release-record.js'),
  learned: () => import('./learned.js'),
};

async function main(): Promise<void> {
  const [first, ...rest] = process.argv.slice(2);
  const names = first === undefined ? Object.keys(BENCHES) : [first];
  for (const name of names) {
    const load = BENCHES[name];
    if (load === undefined) {
      process.stderr.write(
        `unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ') || '(none)'}\n`,
      );
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`[bench] ${name}\n`);
    await (await load()).run(first === undefined ? [] : rest);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
