import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The folder holding Quartermaster's own `package.json` (works from `src/` under Jest and from `dist/`).
 * @throws Error when no such folder is found above this file (a broken install).
 */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'quartermaster') return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Quartermaster's package.json was not found above ${__dirname}`);
    dir = parent;
  }
}
