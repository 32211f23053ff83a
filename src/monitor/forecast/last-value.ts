import type { NumberWindow } from '../ring-buffer';
import type { PointModel } from './types';

/** Baseline: tomorrow is today. Predicts the newest sample for every horizon. */
export class LastValueModel implements PointModel {
  /** @inheritDoc */
  readonly name = 'lastValue';
  /** Nothing to learn. */
  update(): void {}
  /** The newest value in `window`, or `null` when empty. */
  predict(_steps: number, window: NumberWindow): number | null {
    return window.last() ?? null;
  }
}
