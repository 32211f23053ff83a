import { builtinHandlers } from './builtins';
import { DuplicateHandlerError, UnknownHandlerError } from './errors';
import type { StageHandler, StageHandlerDefinition } from './types';

/** A set of named stage handlers; built-ins (`qm.*`) are always present. */
export class HandlerRegistry {
  private readonly handlers = new Map<string, StageHandler>();

  /**
   * @param definitions handlers to register besides the built-ins.
   * @throws DuplicateHandlerError when two definitions share a name or one shadows a built-in.
   */
  constructor(definitions: readonly StageHandlerDefinition[] = []) {
    for (const d of [...builtinHandlers, ...definitions]) this.add(d);
  }

  /**
   * Registers one handler.
   * @throws DuplicateHandlerError when the name is taken.
   */
  add(definition: StageHandlerDefinition): void {
    if (this.handlers.has(definition.name)) throw new DuplicateHandlerError(definition.name);
    this.handlers.set(definition.name, definition.run);
  }

  /**
   * The handler called `name`.
   * @throws UnknownHandlerError naming it and the registered ones.
   */
  get(name: string): StageHandler {
    const handler = this.handlers.get(name);
    if (handler === undefined) throw new UnknownHandlerError(name, this.names());
    return handler;
  }

  /** Registered names, sorted. */
  names(): string[] {
    return [...this.handlers.keys()].sort();
  }
}

/**
 * Defines a named stage handler for `quartermasterPlugin({ handlers: [...] })`.
 * @example
 * export const resize = defineStage('images.resize', async ({ input, allocation }) => ({ done: true }));
 * @throws Error when the name is empty or uses the reserved `qm.` prefix.
 */
export function defineStage(name: string, run: StageHandler): StageHandlerDefinition {
  if (name.trim() === '') throw new Error('a stage handler needs a non-empty name');
  if (name.startsWith('qm.'))
    throw new Error(`handler name "${name}": the "qm." prefix is reserved for built-ins`);
  return { name, run };
}
