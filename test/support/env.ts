import { randomUUID } from 'node:crypto';
import { openDatabase, type Database } from '../../src/ledger/db';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set: integration tests run through jest's global setup (npm test)`);
  }
  return value;
}

/** The shared test services started by `global-setup.ts`. */
export const testEnv = {
  /** Temporal frontend `host:port`. */
  get temporalAddress(): string {
    return required('QM_TEST_TEMPORAL_ADDRESS');
  },
  /** PostgreSQL URL. */
  get databaseUrl(): string {
    return required('QM_TEST_DATABASE_URL');
  },
  /** Path of the prebuilt workflow bundle. */
  get workflowBundlePath(): string {
    return required('QM_TEST_WORKFLOW_BUNDLE');
  },
};

/** A unique id for this test's workflows, task queues and schemas. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Opens the test database in a fresh schema (one per test file); drop it with {@link dropSchema}. */
export async function openTestDatabase(prefix = 'qm_test'): Promise<Database> {
  const schema = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  return openDatabase({ connectionString: testEnv.databaseUrl, schema });
}

/** Drops the test schema and closes the pool. */
export async function dropSchema(db: Database): Promise<void> {
  await db.pool.query(`DROP SCHEMA IF EXISTS ${db.schema} CASCADE`);
  await db.close();
}
