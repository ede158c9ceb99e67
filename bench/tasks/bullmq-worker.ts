/**
 * BullMQ's side of `npm run bench:tasks`, the worker process: one BullMQ `Worker` (concurrency from
 * `CONCURRENCY`, default 64) running a no-op job on the Redis at `REDIS_URL`, under the key prefix
 * `BULLMQ_PREFIX`. Prints `ready` once it is connected, so the runner starts publishing only then
 * (as it waits for a laminar worker's heartbeat).
 *
 * @module
 */
import { Worker } from "bullmq";
import { Redis } from "ioredis";

const concurrency = Number(process.env.CONCURRENCY ?? 64);
// BullMQ's workers block on Redis and must not give up on a command (its documented requirement).
const connection = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
const worker = new Worker<{ index: number }, number>(
  process.env.BULLMQ_QUEUE ?? "bench",
  // The same work as laminar's bench.noop: return the argument, stored as the job's result.
  async (job) => job.data.index,
  { connection, concurrency, prefix: process.env.BULLMQ_PREFIX ?? "bull" },
);
await worker.waitUntilReady();
process.stdout.write("ready\n");

process.once("SIGTERM", () => {
  void worker.close().then(() => connection.quit()).finally(() => process.exit(0));
});
