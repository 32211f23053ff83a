import { randomUUID } from 'node:crypto';
import { openDatabase, type Database } from '../../../src/ledger/db';
import type { LockStrategy } from '../../../src/ledger/types';
import { runSoak, setupSoakLedger } from '../../../bench/ledger-soak';
import { dropSchema, testEnv } from '../../support/env';

// The short CI version of the invariant soak; `npm run bench -- ledger` runs 32 clients × 60 s.
const CLIENTS = Number(process.env.QM_SOAK_CLIENTS ?? 12);
const DURATION_MS = Number(process.env.QM_SOAK_MS ?? 5_000);

describe.each<LockStrategy>(['row-locks', 'serializable'])('invariant under concurrency (%s)', (strategy) => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({
      connectionString: testEnv.databaseUrl,
      schema: `qm_soak_${randomUUID().replace(/-/g, '').slice(0, 12)}`,
      maxConnections: CLIENTS + 4,
    });
    await setupSoakLedger(db, new Date());
  });
  afterAll(async () => {
    await dropSchema(db);
  });

  it(
    `${CLIENTS} clients for ${DURATION_MS} ms: zero violations and the books balance`,
    async () => {
      const result = await runSoak(db, { clients: CLIENTS, durationMs: DURATION_MS, strategy });
      expect(result.unexpectedErrors).toEqual([]);
      expect(result.violations).toEqual([]);
      expect(result.booksProblems).toEqual([]);
      // The run must really have exercised grants, refusals and the checker.
      expect(result.checks).toBeGreaterThan(DURATION_MS / 200);
      expect(result.grantsAccepted).toBeGreaterThan(10);
      expect(result.grantsRejected).toBeGreaterThan(0);
      expect(result.ops).toBeGreaterThan(100);
    },
    DURATION_MS + 30_000,
  );
});
