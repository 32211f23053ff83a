import type { TelemetryOptions } from '@temporalio/worker';

/**
 * Telemetry options for `Runtime.install` that make the Temporal SDK Runtime serve its own worker metrics
 * (`temporal_*`: task slots, poll latencies, sticky cache, activity and workflow task latencies…) in
 * Prometheus format on `bindAddress` (`host:port`), with Prometheus naming: `_total` on counters, durations
 * in seconds with a unit suffix. `qm worker --metrics-port` binds it to a free loopback port and appends it
 * to its own `/metrics`; a program embedding the worker can bind it anywhere and scrape it separately.
 */
export function temporalPrometheusTelemetry(bindAddress: string): TelemetryOptions {
  return {
    metrics: {
      prometheus: {
        bindAddress,
        countersTotalSuffix: true,
        unitSuffix: true,
        useSecondsForDurations: true,
      },
    },
  };
}
