import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** The default task queue of `pipelineWorkflow` and the shared worker queue. */
export const DEFAULT_TASK_QUEUE = 'quartermaster';

/** Where to reach Temporal. */
export interface TemporalSettings {
  /** Connection options (address, TLS, API key) for `Connection.connect`/`NativeConnection.connect`. */
  connectionOptions: NativeConnectionOptions;
  /** Namespace. @default 'default' */
  namespace: string;
}

/**
 * Temporal connection settings from the standard environment configuration (`TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_TLS_*`, `TEMPORAL_API_KEY`, the TOML profile), with `overrides` on top.
 * @default address 127.0.0.1:7233, namespace 'default'
 * @throws Error when the configuration file is malformed (the envconfig package's message).
 */
export function temporalSettings(overrides: { address?: string; namespace?: string } = {}): TemporalSettings {
  const loaded = loadClientConnectConfig();
  const connectionOptions: NativeConnectionOptions = { ...loaded.connectionOptions };
  connectionOptions.address = overrides.address ?? connectionOptions.address ?? '127.0.0.1:7233';
  return { connectionOptions, namespace: overrides.namespace ?? loaded.namespace ?? 'default' };
}
