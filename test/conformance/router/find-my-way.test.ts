/**
 * FindMyWayRouter: the router conformance suite (interpreted and compiled find-my-way), plus what
 * is specific to this implementation (literal colons, method names, maxParamLength).
 */
import t from "tap";
import { FindMyWayRouter } from "../../../layers/router/find-my-way-router.js";
import { routerConformance } from "./router-conformance.js";

routerConformance(t, "FindMyWayRouter (compiled)", () => new FindMyWayRouter());
routerConformance(t, "FindMyWayRouter (tree walk)", () => new FindMyWayRouter({ compile: false }));

t.test("a colon inside a segment is literal; '::' is a literal colon anywhere", async (t) => {
  const router = new FindMyWayRouter<string>();
  router.add("POST", "/v1/items:batch", "batch");
  router.add("GET", "/::literal/{id}", "literal");
  const batch = router.lookup("POST", "/v1/items:batch");
  t.equal(batch.kind === "found" ? batch.value : batch.kind, "batch");
  t.strictSame(batch.kind === "found" ? { ...batch.params } : null, {}, "no parameter named 'batch'");
  t.equal(router.lookup("POST", "/v1/items").kind, "not-found");
  t.equal(router.lookup("POST", "/v1/itemsXbatch").kind, "not-found");
  const hit = router.lookup("GET", "/:literal/7");
  t.equal(hit.kind === "found" ? hit.value : hit.kind, "literal");
  t.same(hit.kind === "found" ? { ...hit.params } : null, { id: "7" });
});

t.test("methods: upper-cased at registration, unknown ones rejected", async (t) => {
  const router = new FindMyWayRouter<string>();
  router.add("get", "/a", "a");
  t.equal(router.lookup("GET", "/a").kind, "found");
  t.throws(() => router.add("BREW", "/a", "coffee"), { code: "LMR_ERR_ROUTE_DEFINITION" });
  t.throws(() => router.add("GET", "/a/{x:int}", "x"), { code: "LMR_ERR_ROUTE_DEFINITION", message: /converter 'int'/ });
  t.throws(() => router.add("GET", "/:id(^\\d+$)", "x"), { code: "LMR_ERR_ROUTE_DEFINITION", message: /regular-expression/ });
});

t.test("maxParamLength: a longer parameter misses, the wildcard has no limit", async (t) => {
  const router = new FindMyWayRouter<string>({ maxParamLength: 10 });
  router.add("GET", "/u/{id}", "user");
  router.add("POST", "/u/{id}", "user-post");
  router.add("GET", "/f/{p:path}", "file");
  t.equal(router.lookup("GET", "/u/0123456789").kind, "found", "exactly the limit");
  t.strictSame(router.lookup("GET", "/u/0123456789a"), { kind: "not-found" }, "one over: not-found, no throw");
  t.strictSame(router.lookup("PUT", "/u/0123456789a"), { kind: "not-found" }, "the 405 probe ignores it too");
  const long = "x".repeat(50);
  const wild = router.lookup("GET", `/f/${long}`);
  t.equal(wild.kind === "found" ? wild.params.p : wild.kind, long);

  const byDefault = new FindMyWayRouter<string>();
  byDefault.add("GET", "/u/{id}", "user");
  const token = "t".repeat(4000); // a long bearer-style token: find-my-way's default (100) would 404 it
  const hit = byDefault.lookup("GET", `/u/${token}`);
  t.equal(hit.kind === "found" ? hit.params.id : hit.kind, token);
  t.equal(byDefault.lookup("GET", `/u/${"t".repeat(8193)}`).kind, "not-found", "default limit 8192");
});

t.test("routes added after lookups are seen (compiled trees are rebuilt)", async (t) => {
  const router = new FindMyWayRouter<string>();
  router.add("GET", "/a", "a");
  t.equal(router.lookup("GET", "/b").kind, "not-found");
  router.add("GET", "/b", "b");
  const hit = router.lookup("GET", "/b");
  t.equal(hit.kind === "found" ? hit.value : hit.kind, "b");
  t.strictSame(router.lookup("POST", "/b"), { kind: "method-not-allowed", allowed: ["GET"] });
});
