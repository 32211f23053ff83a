/** A priority band: the label metrics use instead of the raw priority, so every series stays few. */
export type PriorityBand = 'low' | 'normal' | 'high';

/** Every band, lowest first (dashboards and tests iterate them). */
export const PRIORITY_BANDS: readonly PriorityBand[] = ['low', 'normal', 'high'];

/**
 * The band of a stage priority: 1–3 `low`, 4–7 `normal`, 8–10 `high`. Anything else (a bad or missing
 * priority) counts as `normal`, so a metric never gains a label value outside the three.
 */
export function priorityBand(priority: number): PriorityBand {
  if (!Number.isFinite(priority)) return 'normal';
  if (priority <= 3) return 'low';
  if (priority >= 8) return 'high';
  return 'normal';
}
