/**
 * Shared by the publishing-side tests: a TaskQueue on the memory broker and backend with a fake
 * clock, and a way to read what was published without a worker.
 */
import type { TaskMessage } from "../../../lib/tasks/message.js";
import { MemoryResultBackend } from "../../../lib/tasks/memory/memory-backend.js";
import { MemoryBroker } from "../../../lib/tasks/memory/memory-broker.js";
import { TaskQueue, type TaskQueueOptions } from "../../../lib/tasks/task-queue.js";

/** A fixed start far from 0, so "seconds from now" and epoch-ms values are told apart. */
export const START = Date.UTC(2030, 0, 1);

export interface Harness {
  queue: TaskQueue;
  broker: MemoryBroker;
  backend: MemoryResultBackend;
  clock: { now: number };
  /** Every message published so far (delayed ones included), in delivery order, leased to a test consumer. */
  published(queues?: string[]): Promise<TaskMessage[]>;
}

/** A queue whose broker and queue share a fake clock (the broker's is moved far ahead when reading, so ETAs are due). */
export function harness(options: Partial<TaskQueueOptions> = {}): Harness {
  const clock = { now: START };
  let reading = false;
  const broker = new MemoryBroker({ now: () => (reading ? clock.now + 10 * 365 * 86_400_000 : clock.now) });
  const backend = new MemoryResultBackend({ now: () => clock.now });
  const queue = new TaskQueue({ broker, backend, now: () => clock.now, ...options });
  return {
    queue,
    broker,
    backend,
    clock,
    async published(queues = ["celery"]) {
      reading = true;
      try {
        const deliveries = await broker.reserve({ queues, max: 1000, visibilityTimeoutMs: 60_000, consumer: "test" });
        return deliveries.map((delivery) => delivery.message);
      } finally {
        reading = false;
      }
    },
  };
}
