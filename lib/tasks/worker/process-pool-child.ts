/**
 * The process pool's child: the file {@link ProcessPool} forks. It loads the task registry once
 * (`argv[2]` is the `module[:export]` target, `argv[3]` the directory it is relative to), says
 * `ready`, then runs each task the parent sends and answers with its result or its serialized
 * error. The parent runs one task at a time in it; a soft time limit arrives as a `soft` message
 * and aborts the task's signal. When the parent goes (closed the pool, or died) the child closes
 * the registry and exits.
 *
 * @module
 */
import { closeRegistry, loadRegistry } from "../../cli/load-registry.js";
import { createTaskContext } from "./task-context.js";
import { encodeError, isToChild, type FromChild } from "./process-pool-protocol.js";
import type { TaskMessage } from "../message.js";
import type { TaskRegistry } from "../registry.js";
import { NotRegistered, SoftTimeLimitExceeded } from "../../errors.js";
import { Worker as Thread } from "node:worker_threads";
import { describeLoadError as describe } from "../../cli/describe-error.js";

/** Exit code when the registry cannot be loaded (the CLI's and the supervisor's EXIT_APP_LOAD_ERROR). */
const EXIT_LOAD_ERROR = 4;

function send(message: FromChild): Promise<void> {
  return new Promise((done) => {
    if (process.send === undefined || !process.connected) return done();
    // Throws (so rejects) when the message is not JSON: a BigInt result. The caller reports that instead.
    process.send(message, undefined, {}, () => done());
  });
}

/** Running executions by id, so a `soft` message reaches the right signal. */
const running = new Map<number, AbortController>();

async function run(registry: TaskRegistry, id: number, message: TaskMessage): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const task = registry.lookup(message.task);
    if (task === undefined) throw new NotRegistered(message.task);
    const value = await task.run(message.args, message.kwargs, createTaskContext(message, controller.signal));
    try {
      await send({ type: "done", id, value, rss: process.memoryUsage.rss() });
    } catch (error) {
      // The result cannot travel as JSON (a BigInt, a cycle): the task fails with why, rather than the child.
      await send({ type: "failed", id, error: encodeError(new TypeError(`The result of ${message.task} is not JSON: ${(error as Error).message}`)), rss: process.memoryUsage.rss() });
    }
  } catch (error) {
    await send({ type: "failed", id, error: encodeError(error), rss: process.memoryUsage.rss() });
  } finally {
    running.delete(id);
  }
}


/**
 * A watchdog thread that SIGKILLs this process once its parent is gone (it was reparented). The
 * `disconnect` event cannot do that for a task stuck in a busy loop: the event loop never turns, and
 * an orphan would spin forever, unreachable by any time limit. A thread runs beside the blocked loop.
 */
function watchParent(): void {
  const script = `
    const parent = process.ppid;
    setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, "SIGKILL"); }, 500);
  `;
  try {
    new Thread(script, { eval: true }).unref();
  } catch {
    // No threads here (a restricted runtime): the disconnect handler below still covers idle children.
  }
}

async function main(): Promise<void> {
  const [target, cwd] = process.argv.slice(2);
  if (target === undefined || process.send === undefined) {
    process.stderr.write("process-pool-child: started by laminar's process pool, with a <module>[:export] argument\n");
    process.exit(EXIT_LOAD_ERROR);
  }
  watchParent();
  // Listening before the registry loads: a message sent meanwhile would otherwise be dropped.
  let registry: TaskRegistry | undefined;
  const early: Array<{ id: number; message: TaskMessage }> = [];
  process.on("message", (message) => {
    if (!isToChild(message)) return;
    if (message.type === "soft") {
      running.get(message.id)?.abort(new SoftTimeLimitExceeded(message.seconds));
      return;
    }
    if (registry === undefined) early.push(message);
    else void run(registry, message.id, message.message);
  });
  try {
    registry = await loadRegistry(target, cwd ?? process.cwd());
  } catch (error) {
    await send({ type: "boot-error", message: describe(error) });
    process.exit(EXIT_LOAD_ERROR);
  }
  const loaded = registry;
  // The parent closed the pool or died: nobody will send more work.
  process.on("disconnect", () => {
    for (const controller of running.values()) controller.abort(new Error("The process pool closed"));
    void closeRegistry(loaded).finally(() => process.exit(0));
  });
  // Ctrl-C reaches the whole process group: the parent decides when this child stops.
  process.on("SIGINT", () => {});
  await send({ type: "ready" });
  for (const { id, message } of early.splice(0)) void run(loaded, id, message);
}

void main();
