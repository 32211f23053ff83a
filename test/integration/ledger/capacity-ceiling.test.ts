import { capacityCeiling } from '../../../src/ledger/capacity-ceiling';
import { snapshot } from '../../../src/ledger/snapshot';
import type { Database } from '../../../src/ledger/db';
import { registerNode } from '../../../src/ledger/nodes';
import { setPoolCapacity } from '../../../src/ledger/pools';
import { dropSchema, openTestDatabase } from '../../support/env';

const T0 = new Date('2026-01-01T00:00:00Z');
let db: Database;

beforeAll(async () => {
  db = await openTestDatabase('qm_ceiling');
});
afterAll(() => dropSchema(db));

test('the ceiling is the largest node per host resource (stale ones too) and each pool', async () => {
  expect(capacityCeiling(await snapshot(db))).toEqual({ nodeCount: 0, largestNode: {}, pools: {} });
  await registerNode(db, { id: 'small', capacity: { cpu: 4, memoryMb: 8192, gpu: 1 } }, T0);
  await registerNode(db, { id: 'big', capacity: { cpu: 32, memoryMb: 4096 } }, T0);
  await setPoolCapacity(db, 'db-connections', 20, T0);
  expect(capacityCeiling(await snapshot(db))).toEqual({
    nodeCount: 2,
    largestNode: { cpu: 32, memoryMb: 8192, gpu: 1 },
    pools: { 'db-connections': 20 },
  });
});
