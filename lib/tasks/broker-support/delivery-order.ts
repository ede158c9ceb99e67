/**
 * The order in which due messages are delivered, shared by the brokers that sort in JavaScript:
 * higher priority first, then the earliest due, then publish order (the broker contract's
 * `reserve`). The SQLite broker gets the same order from its index.
 *
 * @module
 */
import { MAX_PRIORITY, MIN_PRIORITY } from "../message.js";

/** What the order looks at. */
export interface OrderKey {
  readonly priority: number;
  /** When it became due (epoch ms). */
  readonly availableAt: number;
  /** Publish order. */
  readonly seq: number;
}

/** Negative when `a` is delivered before `b`. */
export function compareDelivery(a: OrderKey, b: OrderKey): number {
  return b.priority - a.priority || a.availableAt - b.availableAt || a.seq - b.seq;
}

/**
 * Keeps the `max` first items (in {@link compareDelivery} order) of a stream without sorting all of
 * it: a reserve of 64 out of 10,000 due messages costs one pass, not a sort.
 */
export class TopN<T extends OrderKey> {
  readonly items: T[] = [];

  constructor(private readonly max: number) {}

  /** Offers an item; it is kept when it is among the `max` first seen so far. */
  offer(item: T): void {
    const items = this.items;
    if (items.length >= this.max) {
      if (this.max <= 0 || compareDelivery(item, items[items.length - 1]!) >= 0) return;
      items.pop();
    }
    let i = items.length;
    while (i > 0 && compareDelivery(item, items[i - 1]!) < 0) i--;
    items.splice(i, 0, item);
  }
}

/** Clamps a priority into 0..9 (a broken publisher's 42 or NaN must not reorder everything). */
export function clampPriority(priority: unknown): number {
  if (typeof priority !== "number" || !Number.isFinite(priority)) return MIN_PRIORITY;
  return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, Math.trunc(priority)));
}
