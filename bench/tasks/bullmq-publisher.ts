/**
 * BullMQ's side of `npm run bench:tasks`, the publishing process: adds `COUNT` no-op jobs one
 * `queue.add()` at a time (as a web app would, one per request), then waits for each in publish
 * order with `job.waitUntilFinished()`, BullMQ's way of awaiting a result. Prints the same JSON line
 * as laminar's `publisher.ts`.
 *
 * @module
 */
import { Queue, QueueEvents, type Job } from "bullmq";
import { Redis } from "ioredis";

const count = Number(process.env.COUNT ?? 10_000);
const name = process.env.BULLMQ_QUEUE ?? "bench";
const prefix = process.env.BULLMQ_PREFIX ?? "bull";
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const queue = new Queue<{ index: number }, number>(name, { connection: new Redis(url, { maxRetriesPerRequest: null }), prefix });
const events = new QueueEvents(name, { connection: new Redis(url, { maxRetriesPerRequest: null }), prefix });
await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);

const started = performance.now();
const jobs: Job<{ index: number }, number>[] = [];
for (let index = 0; index < count; index++) jobs.push(await queue.add("noop", { index }));
const published = performance.now();
let wrong = 0;
for (let index = 0; index < count; index++) {
  if ((await jobs[index].waitUntilFinished(events, 120_000)) !== index) wrong++;
}
const finished = performance.now();
await Promise.all([queue.close(), events.close()]);
process.stdout.write(`${JSON.stringify({ count, wrong, publishMs: published - started, totalMs: finished - started })}\n`);
process.exit(0);
