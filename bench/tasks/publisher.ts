/**
 * The publishing side of `npm run bench:tasks`, a process of its own: publishes `COUNT` no-op
 * tasks one `delay()` at a time (as a web app would, one per request), then waits for every
 * result. Prints one JSON line: how long publishing took and how long until the last result was stored.
 *
 * @module
 */
import { noop, tasks } from "./noop-tasks.js";
import type { AsyncResult } from "../../lib/tasks/async-result.js";

const count = Number(process.env.COUNT ?? 10_000);
const started = performance.now();
const results: AsyncResult<number>[] = [];
for (let index = 0; index < count; index++) results.push(await noop.delay(index));
const published = performance.now();
let wrong = 0;
for (let index = 0; index < count; index++) {
  // In publish order: most are stored long before their turn, so each get() is one read.
  if ((await results[index].get({ timeout: 120 })) !== index) wrong++;
}
const finished = performance.now();
await tasks.close();
process.stdout.write(`${JSON.stringify({ count, wrong, publishMs: published - started, totalMs: finished - started })}\n`);
