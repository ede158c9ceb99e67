/**
 * A laminar Worker on RabbitMQ in a process of its own, for amqp-kill.test.ts: it runs `hang` (an
 * acksLate task that prints `started <id>` and never ends) until the test SIGKILLs it.
 * Env: LAMINAR_AMQP_URL, LAMINAR_AMQP_PREFIX (the test's queue prefix).
 */
import type { Logger } from "../../../../lib/logger.js";
import { AmqpBroker } from "../../../../lib/tasks/amqp/amqp-broker.js";
import { MemoryResultBackend } from "../../../../lib/tasks/memory/memory-backend.js";
import { TaskQueue } from "../../../../lib/tasks/task-queue.js";
import { Worker } from "../../../../lib/tasks/worker/worker.js";

// Run by anything but amqp-kill.test.ts (tap given this folder): nothing to do.
if (process.env.LAMINAR_AMQP_PREFIX === undefined || process.env.LAMINAR_AMQP_URL === undefined) process.exit(0);

const broker = new AmqpBroker({ url: process.env.LAMINAR_AMQP_URL!, queuePrefix: process.env.LAMINAR_AMQP_PREFIX!, idleQueueExpiresMs: 60_000 });
const queue = new TaskQueue({ broker, backend: new MemoryResultBackend() });
queue.task(
  "hang",
  (id: string) =>
    new Promise<never>(() => {
      process.stdout.write(`started ${id}\n`);
    }),
  { acksLate: true },
);
const quiet: Logger = { error: (obj: object) => void process.stderr.write(`${JSON.stringify(obj)}\n`), warn: () => {}, info: () => {}, debug: () => {} };
new Worker(queue, { queues: ["work"], concurrency: 2, logger: quiet }).start();
process.stdout.write("ready\n");
