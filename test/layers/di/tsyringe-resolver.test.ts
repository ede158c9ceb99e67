import t from "tap";
import type { HttpScope } from "../../../layers/adapter/events.js";
// laminar's decorators module first: it loads reflect-metadata, which tsyringe requires at load time.
import { inject, injectable, singleton } from "../../../layers/di/decorators.js";
import * as tsyringe from "tsyringe";
import { dependency } from "../../../layers/di/dependency.js";
import type { CompiledDependencies, RequestInputs, Resolution } from "../../../layers/di/resolver.js";
import { REQUEST_SCOPE, TsyringeResolver } from "../../../layers/di/tsyringe-resolver.js";
import { InvalidDependencyError } from "../../../lib/errors.js";
import { fakeInputs } from "../../conformance/di/di-conformance.js";

function mustCompile(resolver: TsyringeResolver, deps: Parameters<TsyringeResolver["compile"]>[0]): CompiledDependencies {
  const compiled = resolver.compile(deps);
  if (compiled === null) throw new Error("expected a compiled graph");
  return compiled;
}

async function finish(resolution: Resolution, error?: unknown): Promise<void> {
  await resolution.exits.run("after-handler", error);
  await resolution.exits.run("after-response", error);
}

t.test("decorators are tsyringe's", async (t) => {
  t.equal(injectable, tsyringe.injectable);
  t.equal(inject, tsyringe.inject);
  t.equal(singleton, tsyringe.singleton);
});

t.test("constructor injection across lifetimes", async (t) => {
  let made = 0;
  class Settings {
    readonly id = ++made;
  }
  @injectable()
  class Session {
    readonly id = ++made;
    constructor(
      readonly settings: Settings,
      @inject(REQUEST_SCOPE) readonly scope: HttpScope,
    ) {}
  }
  @injectable()
  class Repo {
    constructor(readonly session: Session) {}
  }
  @injectable()
  class Service {
    constructor(
      readonly repo: Repo,
      readonly session: Session,
    ) {}
  }
  const resolver = new TsyringeResolver();
  resolver.register(Settings, "singleton");
  resolver.register(Session, "request");
  resolver.register(Repo, "transient");
  resolver.register(Service, "transient");
  const compiled = mustCompile(resolver, { service: Service, repo: Repo });

  const inputs1 = fakeInputs();
  const r1 = await compiled.resolve(inputs1);
  const v1 = r1.values as { service: Service; repo: Repo };
  t.equal(v1.service.session, v1.service.repo.session, "two classes depending on one request-scoped class share it");
  t.equal(v1.repo.session, v1.service.session, "…across the route's declarations too");
  t.not(v1.repo, v1.service.repo, "transient: fresh each time");
  t.equal(v1.service.session.scope, inputs1.scope, "REQUEST_SCOPE is this request's scope");

  const inputs2 = fakeInputs();
  const r2 = await compiled.resolve(inputs2);
  const v2 = r2.values as { service: Service; repo: Repo };
  t.not(v2.service.session, v1.service.session, "a new request gets a new request-scoped instance");
  t.equal(v2.service.session.scope, inputs2.scope);
  t.equal(v2.service.session.settings, v1.service.session.settings, "the singleton is shared");
  await finish(r1);
  await finish(r2);
});

t.test("@inject with tokens registered on the app container", async (t) => {
  const resolver = new TsyringeResolver();
  resolver.container.register("dsn", { useValue: "sqlite://memory" });
  @injectable()
  class Db {
    constructor(@inject("dsn") readonly dsn: string) {}
  }
  resolver.register(Db, "singleton");
  const { values } = await mustCompile(resolver, { db: Db }).resolve(fakeInputs());
  t.equal((values.db as Db).dsn, "sqlite://memory");
});

t.test("apps do not share registrations", async (t) => {
  class Shared {}
  const a = new TsyringeResolver();
  const b = new TsyringeResolver();
  a.register(Shared, "singleton");
  const a1 = (await mustCompile(a, { s: Shared }).resolve(fakeInputs())).values.s;
  const a2 = (await mustCompile(a, { s: Shared }).resolve(fakeInputs())).values.s;
  const b1 = await mustCompile(b, { s: Shared }).resolve(fakeInputs());
  const b2 = await mustCompile(b, { s: Shared }).resolve(fakeInputs());
  t.equal(a1, a2);
  t.not(b1.values.s, a1, "the other app never sees the singleton");
  t.not(b1.values.s, b2.values.s, "unregistered there: transient");
  t.notOk(tsyringe.container.isRegistered(Shared, true), "nothing leaked into the global container");
  await finish(b1);
  await finish(b2);
});

t.test("a passed container is used as the app container", async (t) => {
  const parent = tsyringe.container.createChildContainer();
  parent.register("greeting", { useValue: "hi" });
  const resolver = new TsyringeResolver(parent);
  t.equal(resolver.container, parent);
  @injectable()
  class Greeter {
    constructor(@inject("greeting") readonly greeting: string) {}
  }
  resolver.register(Greeter, "request");
  const r = await mustCompile(resolver, { g: Greeter }).resolve(fakeInputs());
  t.equal((r.values.g as Greeter).greeting, "hi");
  await finish(r);
});

t.test("unregistered classes: transient when constructible, a compile error otherwise", async (t) => {
  const resolver = new TsyringeResolver();
  class Plain {}
  const r = await mustCompile(resolver, { a: Plain, b: Plain }).resolve(fakeInputs());
  t.ok(r.values.a instanceof Plain);
  t.not(r.values.a, r.values.b, "transient, like tsyringe");
  await finish(r);

  class NeedsArgs {
    constructor(readonly x: string) {}
  }
  t.throws(() => resolver.compile({ n: NeedsArgs }), InvalidDependencyError);
  t.throws(() => resolver.compile({ n: NeedsArgs }), { message: /NeedsArgs.*@injectable/ });
  t.throws(() => resolver.register(NeedsArgs, "singleton"), { message: /NeedsArgs.*@injectable/ }, "register checks too");
  // Registered by hand on the container (a factory): accepted, the container knows how.
  resolver.container.register(NeedsArgs, { useFactory: () => new NeedsArgs("made") });
  const made = await mustCompile(resolver, { n: NeedsArgs }).resolve(fakeInputs());
  t.equal((made.values.n as NeedsArgs).x, "made");
  await finish(made);
});

t.test("register rejects bad input", async (t) => {
  const resolver = new TsyringeResolver();
  class Ok {}
  t.throws(() => resolver.register(Ok, "forever" as never), { message: /unknown lifetime forever/ });
  t.throws(() => resolver.register((() => 1) as never, "singleton"), InvalidDependencyError);
  t.throws(() => resolver.registerValue("token" as never, 1), InvalidDependencyError);
});

t.test("captive dependencies fail clearly", async (t) => {
  const resolver = new TsyringeResolver();
  class PerRequest {}
  @injectable()
  class HoldsRequest {
    constructor(readonly r: PerRequest) {}
  }
  @injectable()
  class HoldsScope {
    constructor(@inject(REQUEST_SCOPE) readonly scope: HttpScope) {}
  }
  resolver.register(PerRequest, "request");
  resolver.register(HoldsRequest, "singleton");
  resolver.register(HoldsScope, "singleton");
  await t.rejects(mustCompile(resolver, { h: HoldsRequest }).resolve(fakeInputs()), {
    message: /PerRequest.*request-scoped and a singleton depends on it/,
  });
  await t.rejects(mustCompile(resolver, { h: HoldsScope }).resolve(fakeInputs()), { message: /REQUEST_SCOPE/ });
});

t.test("request containers: lazy, shared per request, disposed after the response", async (t) => {
  const log: string[] = [];
  class Conn {
    dispose(): void {
      log.push("conn disposed");
    }
  }
  class Pool {
    dispose(): void {
      log.push("pool disposed");
    }
  }
  const resolver = new TsyringeResolver();
  resolver.register(Conn, "request");
  resolver.register(Pool, "singleton");
  const handle = dependency({ name: "handle", deps: { conn: Conn } }, function* ({ deps }) {
    yield deps.conn;
    log.push("handle closed");
  });

  const onlyFunctions = await mustCompile(resolver, { d: dependency({}, () => 1) }).resolve(fakeInputs());
  t.equal(fakeInputs().scope.extensions, undefined);
  t.ok(onlyFunctions.exits.empty, "no container, nothing to dispose");

  const singletonInputs = fakeInputs();
  const onlySingleton = await mustCompile(resolver, { pool: Pool }).resolve(singletonInputs);
  t.equal(singletonInputs.scope.extensions, undefined, "a singleton needs no request container");
  t.ok(onlySingleton.exits.empty);

  const inputs = fakeInputs();
  const first = await mustCompile(resolver, { handle, pool: Pool }).resolve(inputs);
  const second = await mustCompile(resolver, { conn: Conn }).resolve(inputs);
  t.equal(second.values.conn, first.values.handle, "two graphs resolved for one request share its container");
  t.ok(inputs.scope.extensions, "the container is kept in scope.extensions");
  t.ok(second.exits.empty, "only the graph that created the container disposes it");

  await first.exits.run("after-handler", undefined);
  t.same(log, [], "nothing disposed after the handler");
  await first.exits.run("after-response", undefined);
  t.same(log, ["handle closed", "conn disposed"], "dependents first, then the container; the singleton survives");
  t.same(inputs.scope.extensions, {}, "the request's container is forgotten");

  const again = await mustCompile(resolver, { conn: Conn, pool: Pool }).resolve(fakeInputs());
  t.equal(again.values.pool, first.values.pool, "the singleton outlived the first request");
  await finish(again);
  await resolver.dispose();
  t.same(log.slice(-2), ["conn disposed", "pool disposed"], "singletons are disposed with the resolver");
});

t.test("a failing request-scoped constructor cleans up earlier dependencies", async (t) => {
  const log: string[] = [];
  class Broken {
    constructor() {
      throw new Error("cannot connect");
    }
  }
  const resolver = new TsyringeResolver();
  resolver.register(Broken, "request");
  const first = dependency({ name: "first" }, function* () {
    try {
      yield 1;
    } catch (error) {
      log.push(`first saw: ${(error as Error).message}`);
      throw error;
    }
  });
  const compiled = mustCompile(resolver, { first, broken: Broken });
  await t.rejects(compiled.resolve(fakeInputs()), { message: /cannot connect/ });
  t.match(log, [/first saw: .*cannot connect/]);
});

t.test("a synchronous graph resolves without awaiting per dependency", async (t) => {
  // Microtask order is deterministic: an async function that never awaits settles its promise
  // before returning, so a reaction attached first runs before one scheduled right after it.
  const resolver = new TsyringeResolver();
  class Svc {}
  resolver.register(Svc, "singleton");
  const a = dependency({}, () => 1);
  const b = dependency({ deps: { a } }, ({ deps }) => deps.a + 1);
  const order: string[] = [];
  const syncGraph = mustCompile(resolver, { b, svc: Svc });
  const done = syncGraph.resolve(fakeInputs()).then(() => order.push("resolved"));
  await Promise.resolve().then(() => order.push("next tick"));
  await done;
  t.same(order, ["resolved", "next tick"]);

  const asyncOrder: string[] = [];
  const slow = dependency({}, async () => 1);
  const asyncDone = mustCompile(resolver, { slow }).resolve(fakeInputs()).then(() => asyncOrder.push("resolved"));
  await Promise.resolve().then(() => asyncOrder.push("next tick"));
  await asyncDone;
  t.same(asyncOrder, ["next tick", "resolved"], "control: an async factory does take extra ticks");
});

t.test("the fast path (classes without constructor parameters) keeps tsyringe's lifetimes and disposal", async (t) => {
  const log: string[] = [];
  let made = 0;
  class Unit {
    readonly id = ++made;
    dispose(): void {
      log.push(`unit ${this.id} disposed`);
    }
  }
  class Scratch {
    readonly id = ++made;
    dispose(): void {
      log.push(`scratch ${this.id} disposed`);
    }
  }
  @injectable()
  class Service {
    constructor(readonly unit: Unit) {}
  }
  @injectable()
  class Base {
    constructor(@inject(REQUEST_SCOPE) readonly scope: HttpScope) {}
  }
  // No constructor of its own: inherits Base's injected parameter, so it must not take the fast path.
  @injectable()
  class Derived extends Base {}

  const resolver = new TsyringeResolver();
  resolver.register(Unit, "request");
  resolver.register(Scratch, "transient");
  resolver.register(Service, "request");
  resolver.register(Derived, "request");

  const inputs = fakeInputs();
  const first = await mustCompile(resolver, { a: Unit, b: Unit, s1: Scratch, s2: Scratch }).resolve(inputs);
  t.equal(first.values.a, first.values.b, "one request-scoped instance per request");
  t.not(first.values.s1, first.values.s2, "a transient is new at every use");
  // A class that needs the container, resolved later in the same request, receives the same instance.
  const second = await mustCompile(resolver, { service: Service, unit: Unit, derived: Derived }).resolve(inputs);
  t.equal((second.values.service as Service).unit, first.values.a, "constructor injection sees the fast path's instance");
  t.equal(second.values.unit, first.values.a);
  t.equal((second.values.derived as Derived).scope, inputs.scope, "an inherited injected parameter is honoured");
  t.ok(second.exits.empty, "the first graph owns the request's cleanup");

  const other = await mustCompile(resolver, { a: Unit }).resolve(fakeInputs());
  t.not(other.values.a, first.values.a, "another request, another instance");

  await first.exits.run("after-handler", undefined);
  t.same(log, [], "nothing disposed before the response");
  await first.exits.run("after-response", undefined);
  t.same(log, [`scratch ${(first.values.s2 as Scratch).id} disposed`, `scratch ${(first.values.s1 as Scratch).id} disposed`, `unit ${(first.values.a as Unit).id} disposed`], "newest first, each once");
  t.same(inputs.scope.extensions, {}, "the request's classes are forgotten");
  await finish(other);
  t.equal(log.length, 4);

  // Container first, fast-path class after: still one instance.
  const reversed = fakeInputs();
  const third = await mustCompile(resolver, { service: Service, unit: Unit }).resolve(reversed);
  t.equal((third.values.service as Service).unit, third.values.unit);
  await finish(third);
  t.equal(log.filter((line) => line === `unit ${(third.values.unit as Unit).id} disposed`).length, 1, "disposed once, by the container that made it");
});

t.test("a factory's context reads the request inputs only when the factory does (no parsing for dependencies that use none)", async (t) => {
  const reads: string[] = [];
  const base = fakeInputs({ headers: { "x-token": "abc" }, query: { page: "2" } });
  // The request context parses each input on first read; count the reads instead.
  const inputs = { scope: base.scope } as RequestInputs;
  for (const key of ["params", "query", "headers", "cookies"] as const) {
    Object.defineProperty(inputs, key, { get: () => (reads.push(key), base[key]) });
  }
  const settings = dependency({ name: "settings" }, () => ({ prefix: "user-" }));
  const user = dependency({ name: "user", deps: { settings } }, ({ deps }) => `${deps.settings.prefix}42`);
  const resolver = new TsyringeResolver();
  const plain = await mustCompile(resolver, { user }).resolve(inputs);
  t.equal(plain.values.user, "user-42");
  t.same(reads, [], "nothing read for factories that use only their dependencies");

  const token = dependency({ name: "token" }, ({ headers, deps }) => ({ token: (headers as Record<string, string>)["x-token"], deps }));
  const withHeaders = await mustCompile(resolver, { token }).resolve(inputs);
  t.same(withHeaders.values.token, { token: "abc", deps: {} });
  t.same(reads, ["headers"], "only what the factory read");
});

t.test("a failing dispose() does not stop the others; the failure is reported", async (t) => {
  const log: string[] = [];
  class Older {
    dispose(): void {
      log.push("older disposed");
    }
  }
  class Newer {
    dispose(): void {
      throw new Error("newer could not close");
    }
  }
  const resolver = new TsyringeResolver();
  resolver.register(Older, "request");
  resolver.register(Newer, "request");
  const resolution = await mustCompile(resolver, { older: Older, newer: Newer }).resolve(fakeInputs());
  await resolution.exits.run("after-handler", undefined);
  await t.rejects(resolution.exits.run("after-response", undefined), /newer could not close/);
  t.same(log, ["older disposed"]);
});

t.test("resolveNow: a value when every factory is synchronous, a promise from the first asynchronous one, cleanups before a failure surfaces", async (t) => {
  const resolver = new TsyringeResolver();
  const a = dependency({ name: "a" }, () => 1);
  const b = dependency({ name: "b", deps: { a } }, ({ deps }) => deps.a + 1);
  const sync = mustCompile(resolver, { b }).resolveNow!(fakeInputs());
  t.notOk(sync instanceof Promise, "no promise for a synchronous graph");
  t.same((sync as Resolution).values, { b: 2 });

  const slow = dependency({ name: "slow", deps: { b } }, async ({ deps }) => deps.b + 1);
  const later = dependency({ name: "later", deps: { slow } }, ({ deps }) => deps.slow * 10);
  const pending = mustCompile(resolver, { later }).resolveNow!(fakeInputs());
  t.ok(pending instanceof Promise, "a promise once a factory is asynchronous");
  t.same((await pending).values, { later: 30 }, "and the nodes after it still resolve");

  const boom = dependency({ name: "boom" }, () => {
    throw new Error("boom");
  });
  t.throws(() => mustCompile(resolver, { boom }).resolveNow!(fakeInputs()), /boom/, "nothing to clean up: thrown at once");

  const log: string[] = [];
  const held = dependency({ name: "held" }, function* () {
    try {
      yield "resource";
    } finally {
      log.push("held closed");
    }
  });
  const failing = dependency({ name: "failing", deps: { held } }, () => {
    throw new Error("after a cleanup");
  });
  const result = mustCompile(resolver, { failing }).resolveNow!(fakeInputs());
  t.ok(result instanceof Promise, "a cleanup to run: the failure comes as a rejection");
  await t.rejects(result as Promise<Resolution>, /after a cleanup/);
  t.same(log, ["held closed"], "after the cleanup ran");
  await t.rejects(mustCompile(resolver, { boom }).resolve(fakeInputs()), /boom/, "resolve() still only rejects");
});

t.test("the fast path creates no child container; a class with constructor parameters does", async (t) => {
  class Plain {}
  @injectable()
  class Injected {
    constructor(readonly plain: Plain) {}
  }
  const resolver = new TsyringeResolver();
  resolver.register(Plain, "request");
  resolver.register(Injected, "request");
  let children = 0;
  const create = resolver.container.createChildContainer.bind(resolver.container);
  resolver.container.createChildContainer = () => (children++, create());

  const plain = await mustCompile(resolver, { a: Plain, b: Plain }).resolve(fakeInputs());
  t.equal(children, 0, "request-scoped classes without parameters: no container per request");
  t.ok(plain.exits.empty, "and nothing to dispose");
  const injected = await mustCompile(resolver, { i: Injected }).resolve(fakeInputs());
  t.equal(children, 1, "constructor injection still goes through tsyringe");
  await finish(injected);
});
