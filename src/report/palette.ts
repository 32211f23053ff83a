/** Colours and shared axis settings of the report's charts. */
import type { Band } from '../simulator/metrics';

/** Band → colour (as the simulator's reports always drew them). */
export const BAND_COLOURS: Readonly<Record<Band, string>> = {
  high: '#d62728',
  mid: '#ff9f1c',
  low: '#1f77b4',
};

/** Band → legend label. */
export const BAND_LABELS: Readonly<Record<Band, string>> = {
  high: 'high (8–10)',
  mid: 'mid (4–7)',
  low: 'low (1–3)',
};

/** The x axis every time chart shares: seconds since the origin, `0` to `end`. */
export function timeAxis(end: number): {
  type: 'value';
  min: number;
  max: number;
  name: string;
  nameLocation: 'middle';
  nameGap: number;
} {
  return {
    type: 'value',
    min: 0,
    max: Math.max(1, Math.ceil(end)),
    name: 'time since first request',
    nameLocation: 'middle',
    nameGap: 26,
  };
}
