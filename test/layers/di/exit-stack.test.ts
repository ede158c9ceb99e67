import t from "tap";
import { setImmediate as macrotask } from "node:timers/promises";
import { DependencyExitStack, EMPTY_EXIT_STACK } from "../../../layers/di/exit-stack.js";

t.test("phases run separately, newest first, once", async (t) => {
  const stack = new DependencyExitStack();
  const log: string[] = [];
  t.ok(stack.empty);
  stack.push("after-response", () => void log.push("r1"));
  stack.push("after-handler", () => void log.push("h1"));
  stack.push("after-response", async () => void log.push("r2"));
  stack.push("after-handler", () => void log.push("h2"));
  t.notOk(stack.empty);
  await stack.run("after-handler", undefined);
  t.same(log, ["h2", "h1"]);
  t.notOk(stack.empty, "after-response cleanups still pending");
  await stack.run("after-response", undefined);
  t.same(log, ["h2", "h1", "r2", "r1"]);
  t.ok(stack.empty);
  await stack.run("after-response", undefined);
  t.equal(log.length, 4, "a second run runs nothing");
});

t.test("cleanups receive the error", async (t) => {
  const stack = new DependencyExitStack();
  const seen: unknown[] = [];
  const error = new Error("x");
  stack.push("after-handler", (e) => void seen.push(e));
  stack.push("after-handler", async (e) => void seen.push(e));
  await stack.run("after-handler", error);
  t.same(seen, [error, error]);
});

t.test("an async cleanup finishes before the next (older) one starts", async (t) => {
  const stack = new DependencyExitStack();
  const log: string[] = [];
  let release!: () => void;
  stack.push("after-response", () => void log.push("older"));
  stack.push("after-response", () => new Promise<void>((resolve) => (release = resolve)));
  const running = stack.run("after-response", undefined);
  await macrotask(); // every pending microtask has run
  t.same(log, [], "the older cleanup waits");
  release();
  await running;
  t.same(log, ["older"]);
});

t.test("failures: all run, the first failure rejects, a rethrown request error is not a failure", async (t) => {
  const stack = new DependencyExitStack();
  const log: string[] = [];
  const requestError = new Error("handler");
  stack.push("after-handler", () => void log.push("oldest ran"));
  stack.push("after-handler", () => {
    throw new Error("second failure");
  });
  stack.push("after-handler", async () => {
    throw new Error("first failure");
  });
  stack.push("after-handler", (e) => {
    throw e; // re-raises the request's error: contextlib semantics, not a failure
  });
  await t.rejects(stack.run("after-handler", requestError), { message: "first failure" });
  t.same(log, ["oldest ran"]);

  const rethrowOnly = new DependencyExitStack();
  rethrowOnly.push("after-handler", (e) => {
    throw e;
  });
  await t.resolves(rethrowOnly.run("after-handler", requestError));
});

t.test("unwind runs both phases newest first and drops cleanup failures", async (t) => {
  const stack = new DependencyExitStack();
  const log: string[] = [];
  stack.push("after-response", () => void log.push("r1"));
  stack.push("after-handler", () => {
    log.push("h1");
    throw new Error("ignored");
  });
  stack.push("after-response", async () => void log.push("r2"));
  await t.resolves(stack.unwind(new Error("factory failed")));
  t.same(log, ["r2", "h1", "r1"]);
  t.ok(stack.empty);
});

t.test("the shared empty stack", async (t) => {
  t.ok(EMPTY_EXIT_STACK.empty);
  await t.resolves(EMPTY_EXIT_STACK.run("after-response", new Error("x")));
  t.ok(Object.isFrozen(EMPTY_EXIT_STACK));
});
