/**
 * The process pool's wire format for errors, without processes: what encodeError keeps and
 * decodeError rebuilds, including hostile data.
 */
import t from "tap";
import { decodeError, encodeError, isFromChild, isToChild, type WireError } from "../../../../lib/tasks/worker/process-pool-protocol.js";
import { Retry } from "../../../../lib/tasks/registry.js";
import { SoftTimeLimitExceeded, TaskArgumentsError, WorkerLostError } from "../../../../lib/errors.js";

/** Through JSON, as over the IPC channel. */
const wire = (error: unknown): WireError => JSON.parse(JSON.stringify(encodeError(error))) as WireError;

t.test("a Retry keeps its fields and its exc", async (t) => {
  const sent = new Retry({ countdown: 3, eta: 1_700_000_000_000, maxRetries: null, exc: new SyntaxError("bad") });
  const back = decodeError(wire(sent)) as Retry;
  t.ok(back instanceof Retry);
  t.equal(back.countdown, 3);
  t.equal(back.eta, 1_700_000_000_000);
  t.equal(back.maxRetries, null, "null (retry forever) is not lost");
  t.equal(back.exc?.name, "SyntaxError");
  t.equal(back.message, "Retry: bad");
  t.equal(back.stack, sent.stack);
  // A Retry from another copy of laminar: recognised by name.
  const foreign = Object.assign(new Error("Retry requested"), { name: "Retry", countdown: 9 });
  t.equal((decodeError(wire(foreign)) as Retry).countdown, 9);
  t.ok(decodeError(wire(foreign)) instanceof Retry);
});

t.test("catalogued errors come back as their class, others as named Errors", async (t) => {
  const args = decodeError(wire(new TaskArgumentsError("t", "x")));
  t.ok(args instanceof TaskArgumentsError);
  t.equal((args as Error & { code?: string }).code, "LMR_ERR_TASK_ARGUMENTS");
  t.equal(args.message, "Arguments of task t are invalid: x");
  t.ok(decodeError(wire(new SoftTimeLimitExceeded(2))) instanceof SoftTimeLimitExceeded);
  t.ok(decodeError(wire(new WorkerLostError("x"))) instanceof WorkerLostError);
  const custom = decodeError({ type: "ValueError", message: "m", module: "builtins" });
  t.equal(custom.name, "ValueError");
  t.notOk(custom instanceof Retry);
  t.equal(decodeError({ type: "Retry", message: "no retry fields" }).name, "Retry", "a Retry without its fields is just an error named Retry");
});

t.test("hostile data cannot replace the prototype or the name", async (t) => {
  const hostile = JSON.parse('{"type":"Evil","message":"m","data":{"__proto__":{"polluted":true},"constructor":1}}') as WireError;
  const error = decodeError(hostile);
  t.ok(error instanceof Error, "still an Error");
  t.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype untouched");
  t.equal((error as unknown as Record<string, unknown>).polluted, undefined);
  t.equal(error.name, "Evil");
  t.same(Object.getOwnPropertyDescriptor(error, "__proto__")?.value, { polluted: true }, "kept as plain data");
});

t.test("message guards", async (t) => {
  for (const bad of [null, 1, "ready", {}, { type: "other" }]) {
    t.notOk(isFromChild(bad));
    t.notOk(isToChild(bad));
  }
  t.ok(isFromChild({ type: "ready" }));
  t.ok(isToChild({ type: "soft", id: 1, seconds: 1 }));
});
