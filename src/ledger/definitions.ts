import type { Database } from './db';
import { inTransaction } from './db';
import { DefinitionNotFoundError, translateDbError } from './errors';

/** A stored definition version. */
export interface StoredDefinition {
  /** The pipeline name. */
  name: string;
  /** 1, 2, 3… per name. */
  version: number;
  /** The definition as registered (already validated by the caller). */
  definition: unknown;
  /** When this version was registered. */
  createdAt: Date;
  /** False when the definition equalled the latest version and no new version was written. */
  created: boolean;
}

/**
 * Stores `definition` as the next version of `name`. Registering the same content as the latest version
 * is a no-op returning that version (so retries and re-runs do not create versions).
 * @throws DatabaseUnavailableError when the database is unreachable (nothing is written).
 */
export async function registerDefinition(
  db: Database,
  name: string,
  definition: unknown,
  now: Date,
): Promise<StoredDefinition> {
  return inTransaction(db, 'register definition', async (client) => {
    // Serialise registrations of one name so two concurrent ones get distinct versions.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`qm-def:${name}`]);
    const { rows } = await client.query<{ version: number; same: boolean; created_at: Date }>(
      `SELECT version, definition = $2::jsonb AS same, created_at FROM qm_definitions
        WHERE name = $1 ORDER BY version DESC LIMIT 1`,
      [name, JSON.stringify(definition)],
    );
    const latest = rows[0];
    if (latest?.same)
      return { name, version: latest.version, definition, createdAt: latest.created_at, created: false };
    const version = (latest?.version ?? 0) + 1;
    await client.query(
      'INSERT INTO qm_definitions (name, version, definition, created_at) VALUES ($1, $2, $3, $4)',
      [name, version, JSON.stringify(definition), now],
    );
    return { name, version, definition, createdAt: now, created: true };
  });
}

/**
 * The latest version of `name` (or the given version).
 * @throws DefinitionNotFoundError when none is registered; DatabaseUnavailableError when unreachable.
 */
export async function getDefinition(db: Database, name: string, version?: number): Promise<StoredDefinition> {
  try {
    const { rows } = await db.pool.query<{ version: number; definition: unknown; created_at: Date }>(
      `SELECT version, definition, created_at FROM qm_definitions
        WHERE name = $1 AND ($2::int IS NULL OR version = $2) ORDER BY version DESC LIMIT 1`,
      [name, version ?? null],
    );
    const row = rows[0];
    if (row === undefined)
      throw new DefinitionNotFoundError(version === undefined ? name : `${name}@${version}`);
    return {
      name,
      version: row.version,
      definition: row.definition,
      createdAt: row.created_at,
      created: false,
    };
  } catch (err) {
    throw translateDbError(err, 'read definition');
  }
}
