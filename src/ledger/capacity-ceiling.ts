import type { CapacityCeiling } from '../capacity/ever-fits';
import type { LedgerSnapshot } from './snapshot';

/**
 * The largest capacities in a ledger snapshot, for `unsatisfiableResource`: per host resource the largest
 * capacity of any registered node (stale ones included: a node that stopped heartbeating may come back), each
 * pool's capacity, and how many nodes are registered. Pure: admission judges a request on the snapshot its
 * transaction reads anyway (it was a statement of its own on every request). Never throws.
 */
export function capacityCeiling(snapshot: Pick<LedgerSnapshot, 'nodes' | 'pools'>): CapacityCeiling {
  const largestNode: Record<string, number> = {};
  for (const node of snapshot.nodes)
    for (const [name, capacity] of Object.entries(node.capacity))
      if (typeof capacity === 'number' && capacity > (largestNode[name] ?? -Infinity))
        largestNode[name] = capacity;
  return {
    nodeCount: snapshot.nodes.length,
    largestNode,
    pools: Object.fromEntries(snapshot.pools.map((p) => [p.name, p.capacity])),
  };
}
