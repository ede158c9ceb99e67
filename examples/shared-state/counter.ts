/**
 * A visit counter: the one contract the three stores of this example implement, so the app's
 * routes are the same whichever keeps the count.
 *
 * Deliberately left out: reset and per-visitor counts. The example is about *where* the number
 * lives, not about counting features.
 *
 * @module
 */

/** Where a count is kept. */
export type StoreName = "memory" | "sqlite" | "redis";

/** A counter that can be incremented from many requests at once. */
export interface VisitCounter {
  /** The store's name, as in the URL (`/visits/{store}`). */
  readonly name: StoreName;
  /** Opens connections or files (the lifespan startup calls it). */
  open(): Promise<void>;
  /**
   * Adds one visit and returns the count right after it, in one atomic step: two increments never
   * return the same number (a read followed by a separate write would, under concurrency).
   */
  increment(): Promise<number>;
  /** The current count. */
  read(): Promise<number>;
  /** Releases what {@link open} opened (the lifespan shutdown calls it). */
  close(): Promise<void>;
}
