/** The after-response queue: order, failure isolation, and work registered while it drains. */
import t from "tap";
import type { HttpScope } from "../../../layers/adapter/events.js";
import { deferAfterResponse, hasAfterResponse, runAfterResponse } from "../../../layers/middleware/after-response.js";
import { silentLogger, type Logger } from "../../../lib/logger.js";

function scope(): HttpScope {
  return { type: "http", method: "GET", path: "/x", headers: [] } as unknown as HttpScope;
}

/** A logger that records the messages of error() calls. */
function recordingLogger(): { logger: Logger; errors: unknown[] } {
  const errors: unknown[] = [];
  const logger = Object.assign(Object.create(silentLogger) as Logger, {
    error: (fields: unknown, message?: string) => errors.push([fields, message]),
  });
  return { logger, errors };
}

t.test("a scope that deferred nothing has nothing to run", async (t) => {
  const s = scope();
  t.notOk(hasAfterResponse(s));
  await runAfterResponse(s, silentLogger);
  t.equal(s.extensions, undefined, "no extensions object allocated");
});

t.test("tasks run once, in registration order; a failure is logged and the rest still run", async (t) => {
  const s = scope();
  const ran: string[] = [];
  const { logger, errors } = recordingLogger();
  deferAfterResponse(s, async () => void ran.push("a"));
  deferAfterResponse(s, () => {
    throw new Error("boom");
  });
  deferAfterResponse(s, () => void ran.push("c"));
  t.ok(hasAfterResponse(s));
  await runAfterResponse(s, logger);
  t.same(ran, ["a", "c"]);
  t.equal(errors.length, 1);
  t.notOk(hasAfterResponse(s), "the queue is emptied");
  await runAfterResponse(s, logger);
  t.same(ran, ["a", "c"], "a second run does not repeat them");
});

t.test("work deferred by a running task runs after the current batch, however deep", async (t) => {
  const s = scope();
  const ran: string[] = [];
  deferAfterResponse(s, () => {
    ran.push("task 1");
    deferAfterResponse(s, () => {
      ran.push("added by task 1");
      deferAfterResponse(s, () => void ran.push("added by the added one"));
    });
  });
  deferAfterResponse(s, () => void ran.push("task 2"));
  await runAfterResponse(s, silentLogger);
  t.same(ran, ["task 1", "task 2", "added by task 1", "added by the added one"]);
  t.notOk(hasAfterResponse(s));
});
