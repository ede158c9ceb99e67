/**
 * The DI resolver conformance suite: what every `DependencyResolver` must do, through the contract
 * only. Run it with `diConformance(t, "MyResolver", () => new MyResolver())`.
 *
 * Class services here have zero-argument constructors, so no decorator or container-specific
 * feature is needed; constructor injection is each implementation's own test.
 *
 * @module
 */
import type { Test } from "tap";
import type { HttpScope } from "../../../layers/adapter/events.js";
import { dependency } from "../../../layers/di/dependency.js";
import type { DependencyResolver, RequestInputs } from "../../../layers/di/resolver.js";
import { DependencyCycleError, InvalidDependencyError } from "../../../lib/errors.js";
import { httpScope } from "../../fixtures/scopes.js";

/** A fresh HTTP scope for one simulated request. */
export function fakeScope(path = "/"): HttpScope {
  return httpScope("GET", path);
}

/** Request inputs around a fresh scope. */
export function fakeInputs(extra: Partial<RequestInputs> = {}): RequestInputs {
  return { scope: fakeScope(), params: {}, query: {}, headers: {}, cookies: {}, ...extra };
}

/** Compiles `deps` and fails loudly when the resolver returned null. */
function mustCompile(resolver: DependencyResolver, deps: Parameters<DependencyResolver["compile"]>[0]) {
  const compiled = resolver.compile(deps);
  if (compiled === null) throw new Error("expected a compiled graph, got null");
  return compiled;
}

/** Runs the conformance suite against resolvers made by `make` (a fresh one per subtest). */
export function diConformance(t: Test, name: string, make: () => DependencyResolver): void {
  t.test(`${name}: compile`, async (t) => {
    t.equal(make().compile({}), null, "an empty map compiles to null");

    const resolver = make();
    for (const bad of [undefined, null, 42, "db", { useValue: 1 }, () => 1, async () => 1]) {
      t.throws(
        () => resolver.compile({ bad: bad as never }),
        InvalidDependencyError,
        `rejects ${typeof bad === "function" ? "an arrow function" : JSON.stringify(bad) ?? "undefined"}`,
      );
    }
    t.throws(() => resolver.compile({ v: { useValue: 1 } as never }), { message: /only valid as an override/ });
    const nested = dependency({ deps: { missing: undefined as never } }, () => 1);
    t.throws(() => resolver.compile({ nested }), { message: /missing/ }, "a bad nested token is named");
  });

  t.test(`${name}: cycles are rejected at compile time with their path`, async (t) => {
    const resolver = make();
    const deps: Record<string, unknown> = {};
    const a = dependency({ name: "a", deps: deps as never }, () => 1);
    const b = dependency({ name: "b", deps: { a } }, () => 2);
    deps.a = b; // a -> b -> a, closed after both exist
    const root = dependency({ name: "root", deps: { a } }, () => 3);
    t.throws(() => resolver.compile({ root }), DependencyCycleError);
    t.throws(() => resolver.compile({ root }), { message: /Dependency cycle: a -> b -> a$/ });

    const selfDeps: Record<string, unknown> = {};
    const self = dependency({ name: "self", deps: selfDeps as never }, () => 1);
    selfDeps.me = self;
    t.throws(() => resolver.compile({ self }), { message: /self -> self/ });

    // A diamond is not a cycle.
    const base = dependency({ name: "base" }, () => 1);
    const left = dependency({ name: "left", deps: { base } }, ({ deps }) => deps.base + 1);
    const right = dependency({ name: "right", deps: { base } }, ({ deps }) => deps.base + 2);
    t.not(resolver.compile({ left, right }), null);
  });

  t.test(`${name}: function dependencies resolve once per request, shared by every declarer`, async (t) => {
    const resolver = make();
    let settingsCalls = 0;
    let userCalls = 0;
    const settings = dependency({ name: "settings" }, () => ({ id: ++settingsCalls }));
    const user = dependency({ name: "user", deps: { cfg: settings } }, ({ deps }) => ({ n: ++userCalls, cfg: deps.cfg }));
    const audit = dependency({ deps: { who: user, conf: settings } }, ({ deps }) => ({ who: deps.who, conf: deps.conf }));
    const compiled = mustCompile(resolver, { user, audit, settings });

    const first = await compiled.resolve(fakeInputs());
    t.equal(settingsCalls, 1, "settings made once though declared three times");
    t.equal(userCalls, 1, "user made once though declared twice");
    const v = first.values as { user: { cfg: unknown }; audit: { who: unknown; conf: unknown }; settings: unknown };
    t.equal(v.audit.who, v.user, "sub-dependency received under the declarer's own name");
    t.equal(v.audit.conf, v.settings);
    t.equal(v.user.cfg, v.settings);
    t.same(Object.keys(first.values).sort(), ["audit", "settings", "user"], "only the route's names are returned");

    const second = await compiled.resolve(fakeInputs());
    t.equal(settingsCalls, 2, "a new request resolves again");
    t.not(second.values.settings, first.values.settings);
    t.ok(first.exits.empty, "no generator: nothing to clean up");
  });

  t.test(`${name}: cache: false resolves at each use`, async (t) => {
    const resolver = make();
    let calls = 0;
    let baseCalls = 0;
    const base = dependency({}, () => ++baseCalls);
    const fresh = dependency({ cache: false, deps: { base } }, ({ deps }) => ({ call: ++calls, base: deps.base }));
    const a = dependency({ deps: { f: fresh } }, ({ deps }) => deps.f);
    const b = dependency({ deps: { f: fresh } }, ({ deps }) => deps.f);
    const { values } = await mustCompile(resolver, { a, b, direct: fresh }).resolve(fakeInputs());
    t.equal(calls, 3, "one call per declaration");
    t.not(values.a, values.b);
    t.not(values.a, values.direct);
    t.equal(baseCalls, 1, "its cached sub-dependency is still shared");
  });

  t.test(`${name}: factories receive the request inputs`, async (t) => {
    const resolver = make();
    const seen: unknown[] = [];
    const dep = dependency({}, (ctx) => {
      seen.push(ctx);
      return 1;
    });
    const inputs = fakeInputs({ params: { id: 7 }, query: { q: "x" }, headers: { "x-a": "1" }, cookies: { s: "c" } });
    await mustCompile(resolver, { dep }).resolve(inputs);
    t.match(seen[0], { scope: inputs.scope, params: { id: 7 }, query: { q: "x" }, headers: { "x-a": "1" }, cookies: { s: "c" }, deps: {} });
    t.equal((seen[0] as { scope: unknown }).scope, inputs.scope, "the very scope object");
  });

  t.test(`${name}: async factories, resolved before their dependents`, async (t) => {
    const resolver = make();
    const order: string[] = [];
    const slow = dependency({}, async () => {
      await Promise.resolve();
      order.push("slow");
      return "s";
    });
    const syncDep = dependency({ deps: { slow } }, ({ deps }) => {
      order.push("sync");
      return `${deps.slow}+sync`;
    });
    const top = dependency({ deps: { s: syncDep } }, async ({ deps }) => {
      order.push("top");
      return `${deps.s}+top`;
    });
    const { values } = await mustCompile(resolver, { top }).resolve(fakeInputs());
    t.equal(values.top, "s+sync+top");
    t.same(order, ["slow", "sync", "top"]);

    const rejected = dependency({}, async () => {
      throw new Error("no db");
    });
    await t.rejects(mustCompile(resolver, { rejected }).resolve(fakeInputs()), { message: "no db" });
  });

  t.test(`${name}: generators: first yield is the value, cleanups run newest first, by phase`, async (t) => {
    const resolver = make();
    const log: string[] = [];
    const conn = dependency({ name: "conn" }, function* () {
      log.push("open conn");
      yield "conn";
      log.push("close conn"); // plain code after the yield is cleanup too
    });
    const tx = dependency({ name: "tx", deps: { conn }, exit: "after-handler" }, async function* ({ deps }) {
      log.push(`begin on ${deps.conn}`);
      try {
        yield "tx";
        log.push("commit");
      } finally {
        log.push("tx finally");
      }
    });
    const cache = dependency({ name: "cache", deps: { tx } }, async function* () {
      yield "cache";
      log.push("close cache");
    });
    const { values, exits } = await mustCompile(resolver, { cache, tx }).resolve(fakeInputs());
    t.same(values, { cache: "cache", tx: "tx" });
    t.notOk(exits.empty);
    t.same(log, ["open conn", "begin on conn"], "nothing cleaned up yet");

    await exits.run("after-handler", undefined);
    t.same(log.slice(2), ["commit", "tx finally"], "after-handler phase only");
    await exits.run("after-response", undefined);
    t.same(log.slice(4), ["close cache", "close conn"], "after-response, newest first");
    t.ok(exits.empty, "everything ran");
    await exits.run("after-response", undefined);
    t.equal(log.length, 6, "running a phase again runs nothing");
  });

  t.test(`${name}: cleanups see the request's error`, async (t) => {
    const resolver = make();
    const log: string[] = [];
    const boom = new Error("handler failed");
    const tx = dependency({ exit: "after-handler" }, function* () {
      try {
        yield "tx";
        log.push("commit");
      } catch (error) {
        log.push(`rollback: ${(error as Error).message}`);
        throw error; // re-raised: not a cleanup failure
      }
    });
    const swallow = dependency({}, async function* () {
      try {
        yield 1;
      } catch (error) {
        log.push(`swallowed: ${(error as Error).message}`);
      }
    });
    const { exits } = await mustCompile(resolver, { tx, swallow }).resolve(fakeInputs());
    await exits.run("after-handler", boom);
    await exits.run("after-response", boom);
    t.same(log, ["rollback: handler failed", "swallowed: handler failed"]);
  });

  t.test(`${name}: a failing cleanup does not stop the others; run rejects with the first failure`, async (t) => {
    const resolver = make();
    const log: string[] = [];
    const first = dependency({ name: "first" }, function* () {
      yield 1;
      log.push("first cleaned");
    });
    const failsLater = dependency({ name: "failsLater" }, function* () {
      yield 2;
      throw new Error("release failed");
    });
    const failsFirst = dependency({ name: "failsFirst" }, async function* () {
      yield 3;
      throw new Error("commit failed");
    });
    const { exits } = await mustCompile(resolver, { first, failsLater, failsFirst }).resolve(fakeInputs());
    await t.rejects(exits.run("after-response", undefined), { message: "commit failed" });
    t.same(log, ["first cleaned"], "the oldest cleanup still ran");
    t.ok(exits.empty);
  });

  t.test(`${name}: a factory that throws cleans up what was already created, then rethrows`, async (t) => {
    const resolver = make();
    const log: string[] = [];
    const seen: unknown[] = [];
    const a = dependency({ name: "a" }, function* () {
      try {
        yield "a";
      } catch (error) {
        seen.push(error);
        throw error;
      } finally {
        log.push("a cleaned");
      }
    });
    const b = dependency({ name: "b", exit: "after-handler", deps: { a } }, async function* () {
      yield "b";
      log.push("b cleaned (not reached)");
    });
    const failure = new Error("c failed");
    const c = dependency({ name: "c", deps: { b } }, () => {
      throw failure;
    });
    let dCalls = 0;
    const d = dependency({ name: "d", deps: { c } }, () => ++dCalls);
    const compiled = mustCompile(resolver, { d });
    const error = await compiled.resolve(fakeInputs()).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.equal(error, failure, "the original error, unchanged");
    t.same(log, ["a cleaned"], "b (after-handler) cleaned first via throw: its code after yield is skipped; then a");
    t.same(seen, [failure], "a's cleanup saw the error");
    t.equal(dCalls, 0, "nothing after the failure runs");
  });

  t.test(`${name}: generators that do not yield exactly once`, async (t) => {
    const resolver = make();
    const empty = dependency({ name: "emptyGen" }, function* () {
      // returns without yielding
    });
    await t.rejects(mustCompile(resolver, { empty }).resolve(fakeInputs()), { message: /emptyGen/ });
    await t.rejects(mustCompile(resolver, { empty }).resolve(fakeInputs()), InvalidDependencyError);

    const emptyAsync = dependency({ name: "emptyAsyncGen" }, async function* () {
      // returns without yielding
    });
    await t.rejects(mustCompile(resolver, { emptyAsync }).resolve(fakeInputs()), { message: /emptyAsyncGen/ });

    let finallyRan = false;
    const twice = dependency({ name: "twice" }, function* () {
      try {
        yield 1;
        yield 2;
      } finally {
        finallyRan = true;
      }
    });
    const { exits } = await mustCompile(resolver, { twice }).resolve(fakeInputs());
    await t.rejects(exits.run("after-response", undefined), { message: /twice.*more than once/ });
    t.ok(finallyRan, "the generator was closed anyway");
  });

  t.test(`${name}: class lifetimes`, async (t) => {
    const resolver = make();
    let made = 0;
    class Config {
      readonly n = ++made;
    }
    class Session {
      readonly n = ++made;
    }
    class Temp {
      readonly n = ++made;
    }
    resolver.register(Config, "singleton");
    resolver.register(Session, "request");
    resolver.register(Temp, "transient");
    const viaA = dependency({ deps: { s: Session, t: Temp } }, ({ deps }) => deps);
    const viaB = dependency({ deps: { s: Session, t: Temp, c: Config } }, ({ deps }) => deps);
    const compiled = mustCompile(resolver, { a: viaA, b: viaB, config: Config, session: Session });

    const r1 = (await compiled.resolve(fakeInputs())).values as {
      a: { s: Session; t: Temp };
      b: { s: Session; t: Temp; c: Config };
      config: Config;
      session: Session;
    };
    t.ok(r1.session instanceof Session);
    t.equal(r1.a.s, r1.b.s, "request-scoped: one instance for every declarer in a request");
    t.equal(r1.a.s, r1.session);
    t.not(r1.a.t, r1.b.t, "transient: fresh at each use");
    t.equal(r1.b.c, r1.config);

    const req1 = await compiled.resolve(fakeInputs());
    await req1.exits.run("after-handler", undefined);
    await req1.exits.run("after-response", undefined);
    const r2 = req1.values as typeof r1;
    t.not(r2.session, r1.session, "request-scoped: fresh across requests");
    t.equal(r2.config, r1.config, "singleton: shared across requests");

    const fixed = new Config();
    resolver.registerValue(Config, fixed);
    const r3 = await mustCompile(resolver, { config: Config }).resolve(fakeInputs());
    t.equal(r3.values.config, fixed, "registerValue supplies the instance");
  });

  t.test(`${name}: overrides`, async (t) => {
    const resolver = make();
    const real = dependency({ name: "real" }, () => "real");
    const fake = dependency({ name: "fake" }, () => "fake");
    const user = dependency({ name: "user", deps: { src: real } }, ({ deps }) => `user from ${deps.src}`);
    class Clock {
      now(): string {
        return "real time";
      }
    }
    resolver.register(Clock, "singleton");
    const before = mustCompile(resolver, { user, clock: Clock });

    const undoFake = resolver.override(real, fake);
    const withFake = mustCompile(resolver, { user, real });
    t.same((await withFake.resolve(fakeInputs())).values, { user: "user from fake", real: "fake" }, "function by function, nested too");
    t.same((await before.resolve(fakeInputs())).values.user, "user from real", "graphs compiled before are unchanged");

    const undoValue = resolver.override(real, { useValue: "value" });
    t.same((await mustCompile(resolver, { user }).resolve(fakeInputs())).values.user, "user from value", "newest override wins");
    undoFake(); // out of order: must not remove the value override
    t.same((await mustCompile(resolver, { user }).resolve(fakeInputs())).values.user, "user from value");
    undoValue();
    undoValue(); // idempotent
    t.same((await mustCompile(resolver, { user }).resolve(fakeInputs())).values.user, "user from real", "undo restores");

    const frozen = { now: () => "frozen" };
    const undoClock = resolver.override(Clock, { useValue: frozen });
    t.equal((await mustCompile(resolver, { clock: Clock }).resolve(fakeInputs())).values.clock, frozen, "class by value");
    undoClock();
    t.ok((await mustCompile(resolver, { clock: Clock }).resolve(fakeInputs())).values.clock instanceof Clock, "class restored");

    // An override can introduce a cycle; it is caught like any other.
    const loop = dependency({ name: "loop", deps: { u: user } }, () => "loop");
    const undoLoop = resolver.override(real, loop);
    t.throws(() => resolver.compile({ user }), { message: /Dependency cycle: user -> loop -> user$/ });
    undoLoop();

    t.throws(() => resolver.override(real, 42 as never), InvalidDependencyError, "a bad replacement is rejected");
    t.throws(() => resolver.override("real" as never, fake), InvalidDependencyError, "a bad token is rejected");
  });

  t.test(`${name}: inputs are collected once each, in resolution order`, async (t) => {
    const resolver = make();
    const pageSchema = { type: "object", properties: { limit: { type: "integer" } } } as const;
    const authSchema = { type: "object", properties: { authorization: { type: "string" } } } as const;
    const page = dependency({ query: pageSchema }, ({ query }) => query);
    const auth = dependency({ headers: authSchema, cache: false }, () => "token");
    const user = dependency({ deps: { auth } }, () => "user");
    const plain = dependency({}, () => 0);
    const compiled = mustCompile(resolver, { user, page, again: auth, plain });
    t.equal(compiled.inputs.length, 2, "auth once (though uncached and declared twice), page once, plain not at all");
    t.equal(compiled.inputs[0]!.headers, authSchema);
    t.equal(compiled.inputs[1]!.query, pageSchema);
  });
}
