import type { AllocationOfferListener } from '../src/handlers/types';
import type { Database } from '../src/ledger/db';
import { acceptShrink, declineShrink, type ShrinkResult } from '../src/ledger/shrink';
import type { ResourceVector, ShrinkOfferRecord } from '../src/ledger/types';

/** What {@link AllocationOffers} needs. */
export interface AllocationOffersOptions {
  /** The ledger. */
  db: Database;
  /** The running stage's reservation. */
  key: string;
  /** The handler's live `allocation` object: updated in place after an accepted shrink. */
  allocation: ResourceVector;
  /** Called after the ledger recorded an accepted shrink (wakes the scheduler so waiting work starts now). */
  onAccepted: (result: ShrinkResult) => Promise<void>;
  /** Where problems are reported (the activity's logger). */
  log: {
    info(message: string, meta?: Record<string, unknown>): void;
    warn(message: string, meta?: Record<string, unknown>): void;
  };
}

/**
 * The running stage's side of graceful degradation: holds the handler's offer listeners and answers each
 * offer its lease renewals bring, once. No listener → declined at once; every listener `true` → the
 * ledger's `acceptShrink` (which frees the difference) and the live allocation is updated; anything else →
 * declined. A ledger call that fails transiently is retried with the next renewal that still shows the
 * offer, without asking the listeners again. Never throws.
 */
export class AllocationOffers {
  private readonly listeners: AllocationOfferListener[] = [];
  private inFlight = false;
  private closed = false;
  /** `offeredAt` (ms) of the last offer answered in the ledger (or found stale). */
  private settledAt = Number.NaN;
  /** The handler's answer to an offer whose ledger call has not gone through yet. */
  private decided: { offeredAt: number; accept: boolean } | null = null;

  constructor(private readonly options: AllocationOffersOptions) {}

  /** `StageContext.onAllocationOffer`: adds a listener, returns its remover. */
  readonly subscribe = (listener: AllocationOfferListener): (() => void) => {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  };

  /** Hands over the offer a lease renewal returned (null: none). Answers it in the background. */
  receive(offer: ShrinkOfferRecord | null): void {
    if (offer === null || this.closed || this.inFlight) return;
    if (offer.offeredAt.getTime() === this.settledAt) return;
    this.inFlight = true;
    void this.answer(offer).finally(() => {
      this.inFlight = false;
    });
  }

  /** The handler is done: offers that arrive later are ignored (its release frees everything anyway). */
  close(): void {
    this.closed = true;
  }

  private async answer(offer: ShrinkOfferRecord): Promise<void> {
    const { db, key, log } = this.options;
    const offeredAt = offer.offeredAt.getTime();
    if (this.decided?.offeredAt !== offeredAt) {
      this.decided = { offeredAt, accept: await this.ask(offer) };
    }
    if (this.closed) return;
    const ref = { key, offeredAt: offer.offeredAt };
    try {
      if (!this.decided.accept) {
        await declineShrink(db, ref, new Date());
        log.info('allocation offer declined', { key, to: offer.to });
      } else {
        const result = await acceptShrink(db, ref, new Date());
        for (const [resource, amount] of Object.entries(result.granted))
          this.options.allocation[resource] = amount;
        log.info('allocation offer accepted', { key, granted: result.granted, freed: result.freed });
        await this.options.onAccepted(result).catch((err: unknown) => {
          log.warn('could not report an accepted shrink (scheduler wake-up, pipeline status)', {
            key,
            error: String(err),
          });
        });
      }
      this.settledAt = offeredAt;
    } catch (err) {
      if ((err as { name?: string }).name === 'StaleShrinkOfferError') {
        // Withdrawn meanwhile (the waiting work found room): the stage keeps its grant.
        this.settledAt = offeredAt;
        log.info('allocation offer withdrawn before it was accepted', { key, error: String(err) });
      } else {
        log.warn('could not answer an allocation offer; retrying at the next renewal', {
          key,
          error: String(err),
        });
      }
    }
  }

  /** Every listener says yes → accept; no listener, a no, or a throw → decline. */
  private async ask(offer: ShrinkOfferRecord): Promise<boolean> {
    const listeners = [...this.listeners];
    if (listeners.length === 0) return false;
    try {
      const answers = await Promise.all(
        listeners.map((l) => l({ from: { ...offer.from }, to: { ...offer.to } })),
      );
      return answers.every((a) => a === true);
    } catch (err) {
      this.options.log.warn('an allocation offer listener threw; the offer is declined', {
        key: this.options.key,
        error: String(err),
      });
      return false;
    }
  }
}
