/**
 * Where a message with a future ETA waits on RabbitMQ, which has no broker-side delay without the
 * delayed-message plugin: in a delay queue with a per-message TTL (`expiration`) whose dead-letter
 * target is the real queue (`x-dead-letter-exchange: ""`, `x-dead-letter-routing-key: <queue>`). The
 * broker holds the ETA, not a worker: no prefetched ETA message sits unacked in a worker's memory
 * (what makes Celery on RabbitMQ hit `consumer_timeout` and redeliver, celery#2599-style).
 *
 * RabbitMQ only expires messages at the head of a queue: a 10-minute message in front of a 1-second
 * one holds it back. So each target queue has one delay queue per delay *bucket*, eight per doubling
 * of the delay (`laminar.delay.<queue>.<bucket>`): within a bucket delays differ by under 9%, so a
 * message is never delivered early and at most ~9% of its delay late (plus the publish time).
 *
 * @module
 */

/** Buckets per doubling of the delay. */
const BUCKETS_PER_OCTAVE = 8;

/** The bucket of a delay in ms (≥ 1). */
export function delayBucket(delayMs: number): number {
  return Math.max(0, Math.floor(BUCKETS_PER_OCTAVE * Math.log2(Math.max(1, delayMs))));
}

/** The delay queue holding messages for `queue` (a physical queue name) with this delay. */
export function delayQueueName(queue: string, delayMs: number): string {
  return `laminar.delay.${queue}.${delayBucket(delayMs)}`;
}

/** The arguments a delay queue is declared with: its expired messages go to `queue` through the default exchange. */
export function delayQueueArguments(queue: string, idleExpiresMs?: number): Record<string, unknown> {
  const args: Record<string, unknown> = { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue };
  if (idleExpiresMs !== undefined) args["x-expires"] = idleExpiresMs;
  return args;
}

/** True when `name` is one of `queue`'s delay queues. */
export function isDelayQueueOf(name: string, queue: string): boolean {
  return name.startsWith(`laminar.delay.${queue}.`) && /^\d+$/.test(name.slice(`laminar.delay.${queue}.`.length));
}
