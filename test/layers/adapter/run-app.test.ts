/** runApp: every way an app can end reaches the exchange exactly once, and the synchronous case at once. */
import t from "tap";
import type { App, HttpScope, Receive, Send } from "../../../layers/adapter/events.js";
import { SENT } from "../../../layers/adapter/events.js";
import { runApp, type AppOutcome } from "../../../layers/adapter/run-app.js";

/** An exchange that records what runApp reported. */
function recorder(): AppOutcome & { outcomes: string[]; errors: unknown[] } {
  const outcomes: string[] = [];
  const errors: unknown[] = [];
  return {
    outcomes,
    errors,
    receive: (() => Promise.resolve({ type: "http.disconnect" })) as Receive,
    send: (() => SENT) as Send,
    appReturned: () => void outcomes.push("returned"),
    appFailed: (_scope, err) => {
      outcomes.push("failed");
      errors.push(err);
    },
  };
}

const scope = { type: "http", method: "GET", path: "/" } as HttpScope;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test("an app that returns SENT is settled before runApp returns", async (t) => {
  const exchange = recorder();
  runApp(() => SENT, scope, exchange);
  t.same(exchange.outcomes, ["returned"]);
  await tick();
  t.same(exchange.outcomes, ["returned"], "and only once");
});

t.test("the app gets the exchange's own receive and send", async (t) => {
  const exchange = recorder();
  let seen: [Receive, Send] | undefined;
  runApp((_s, receive, send) => ((seen = [receive, send]), SENT), scope, exchange);
  t.equal(seen?.[0], exchange.receive);
  t.equal(seen?.[1], exchange.send);
});

t.test("a synchronous throw is a failure, reported at once with the error", async (t) => {
  const exchange = recorder();
  const boom = new Error("boom");
  const app: App = () => {
    throw boom;
  };
  runApp(app, scope, exchange);
  t.same(exchange.outcomes, ["failed"]);
  t.equal(exchange.errors[0], boom);
});

t.test("another resolved promise is awaited, not mistaken for SENT", async (t) => {
  const exchange = recorder();
  runApp(() => Promise.resolve(), scope, exchange);
  t.same(exchange.outcomes, [], "not yet: only SENT is known to be settled");
  await tick();
  t.same(exchange.outcomes, ["returned"]);
});

t.test("a rejection is a failure once it happens", async (t) => {
  const exchange = recorder();
  let fail: (err: unknown) => void = () => {};
  runApp(() => new Promise<void>((_resolve, reject) => (fail = reject)), scope, exchange);
  await tick();
  t.same(exchange.outcomes, [], "still running");
  fail(new Error("late"));
  await tick();
  t.same(exchange.outcomes, ["failed"]);
  t.match(exchange.errors[0], { message: "late" });
});

t.test("an app that breaks the contract and returns nothing still counts as returned", async (t) => {
  const exchange = recorder();
  runApp((() => undefined) as unknown as App, scope, exchange);
  await tick();
  t.same(exchange.outcomes, ["returned"]);
});

t.test("a rejection with undefined is still a failure", async (t) => {
  const exchange = recorder();
  runApp(() => Promise.reject(undefined), scope, exchange);
  await tick();
  t.same(exchange.outcomes, ["failed"]);
  t.equal(exchange.errors[0], undefined);
});
