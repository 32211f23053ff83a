import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';

/** Folder of numbered migrations: `NNN_name.sql`, applied in order, each once. */
export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

interface Migration {
  id: number;
  name: string;
  sql: string;
}

function loadMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      id: Number(f.slice(0, 3)),
      name: f,
      sql: readFileSync(path.join(MIGRATIONS_DIR, f), 'utf8'),
    }));
}

/**
 * Applies pending migrations to `schema`, each in its own transaction, under a session advisory lock
 * keyed by the schema so concurrent starters serialise.
 * @throws whatever PostgreSQL reports for a failing migration (that migration is rolled back).
 */
export async function runMigrations(pool: pg.Pool, schema: string): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext($1))`, [`quartermaster-migrate:${schema}`]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS qm_migrations (id int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ id: number }>('SELECT id FROM qm_migrations');
      const done = new Set(rows.map((r) => r.id));
      for (const m of loadMigrations()) {
        if (done.has(m.id)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO qm_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
          await client.query('COMMIT');
          applied.push(m.id);
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`quartermaster-migrate:${schema}`]);
    }
  } finally {
    client.release();
  }
  return applied;
}
