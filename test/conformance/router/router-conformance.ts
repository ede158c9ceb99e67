/**
 * The router conformance suite: every {@link Router} implementation runs it
 * (model: Hono's `src/router/common.case.test.ts`).
 *
 * Most of it is a table: a case registers routes (each stored value is `"METHOD path"`, so a hit
 * tells which route won) and lists lookups with their expected outcome. Every case runs twice, with
 * the routes registered in the listed order and reversed: results must not depend on order.
 *
 * @module
 */
import type { Test } from "tap";
import type { RouteLookup, Router } from "../../../layers/router/router.js";

/** A router factory: a fresh, empty router per call. */
export type MakeRouter = <T>() => Router<T>;

/** What a lookup must give: the winning route and its params, the allowed methods, or a miss. */
type Expected = { route: string; params?: Record<string, string> } | { allowed: string[] } | "not-found";

interface Case {
  name: string;
  routes: Array<[method: string, path: string]>;
  lookups: Array<[method: string, path: string, expected: Expected]>;
}

const found = (route: string, params: Record<string, string> = {}): Expected => ({ route, params });
const allowed = (...methods: string[]): Expected => ({ allowed: methods });

const CASES: Case[] = [
  {
    name: "static routes",
    routes: [["GET", "/"], ["GET", "/hello"], ["GET", "/hello/world"], ["GET", "/hello-world"], ["GET", "/a/b/c/d/e"]],
    lookups: [
      ["GET", "/", found("GET /")],
      ["GET", "/hello", found("GET /hello")],
      ["GET", "/hello/world", found("GET /hello/world")],
      ["GET", "/hello-world", found("GET /hello-world")],
      ["GET", "/a/b/c/d/e", found("GET /a/b/c/d/e")],
      ["GET", "/hell", "not-found"],
      ["GET", "/helloo", "not-found"],
      ["GET", "/a/b/c/d", "not-found"],
      ["GET", "/HELLO", "not-found"], // case-sensitive
      ["GET", "//hello", "not-found"], // no slash merging
      ["GET", "/hello//world", "not-found"],
    ],
  },
  {
    name: "trailing slash is a different path",
    routes: [["GET", "/users"], ["GET", "/docs/"], ["GET", "/items/{id}"]],
    lookups: [
      ["GET", "/users", found("GET /users")],
      ["GET", "/users/", "not-found"],
      ["GET", "/docs/", found("GET /docs/")],
      ["GET", "/docs", "not-found"],
      ["GET", "/items/1", found("GET /items/{id}", { id: "1" })],
      ["GET", "/items/1/", "not-found"],
    ],
  },
  {
    name: "one-segment parameters",
    routes: [["GET", "/users/{id}"], ["GET", "/users/{id}/posts/{postId}"], ["GET", "/items/:itemId"], ["GET", "/{first}"]],
    lookups: [
      ["GET", "/users/42", found("GET /users/{id}", { id: "42" })],
      ["GET", "/users/ABC", found("GET /users/{id}", { id: "ABC" })], // values keep their case
      ["GET", "/users/42/posts/7", found("GET /users/{id}/posts/{postId}", { id: "42", postId: "7" })],
      ["GET", "/items/x1", found("GET /items/:itemId", { itemId: "x1" })],
      ["GET", "/anything", found("GET /{first}", { first: "anything" })],
      // a parameter never matches the empty string (Starlette's `[^/]+`)
      ["GET", "/users/", "not-found"],
      ["GET", "/users//posts/7", "not-found"],
      ["GET", "/users/42/posts/", "not-found"],
      ["GET", "/", "not-found"],
      // and never a slash
      ["GET", "/users/42/43", "not-found"],
    ],
  },
  {
    name: "parameters inside a segment",
    routes: [["GET", "/files/{name}.json"], ["GET", "/range/{start}-{end}"], ["GET", "/v{version}/status"]],
    lookups: [
      ["GET", "/files/report.json", found("GET /files/{name}.json", { name: "report" })],
      ["GET", "/files/a.b.json", found("GET /files/{name}.json", { name: "a.b" })],
      ["GET", "/files/report.xml", "not-found"],
      ["GET", "/files/.json", "not-found"],
      ["GET", "/range/1-5", found("GET /range/{start}-{end}", { start: "1", end: "5" })],
      ["GET", "/v2/status", found("GET /v{version}/status", { version: "2" })],
    ],
  },
  {
    name: "{name:path} and * wildcards",
    routes: [["GET", "/files/{rest:path}"], ["GET", "/static/*"], ["GET", "/docs/{page}"]],
    lookups: [
      ["GET", "/files/a/b/c.txt", found("GET /files/{rest:path}", { rest: "a/b/c.txt" })],
      ["GET", "/files/x", found("GET /files/{rest:path}", { rest: "x" })],
      ["GET", "/files/", found("GET /files/{rest:path}", { rest: "" })],
      ["GET", "/files/a//b/", found("GET /files/{rest:path}", { rest: "a//b/" })],
      ["GET", "/files", "not-found"],
      ["GET", "/static/css/site.css", found("GET /static/*", { "*": "css/site.css" })],
      ["GET", "/docs/a/b", "not-found"],
    ],
  },
  {
    name: "static beats parameter beats wildcard, with backtracking",
    routes: [["GET", "/p/{rest:path}"], ["GET", "/p/{id}"], ["GET", "/p/static"], ["GET", "/p/{id}/edit"], ["GET", "/p/static/view"]],
    lookups: [
      ["GET", "/p/static", found("GET /p/static")],
      ["GET", "/p/other", found("GET /p/{id}", { id: "other" })],
      ["GET", "/p/stat", found("GET /p/{id}", { id: "stat" })],
      ["GET", "/p/staticx", found("GET /p/{id}", { id: "staticx" })],
      ["GET", "/p/a/edit", found("GET /p/{id}/edit", { id: "a" })],
      ["GET", "/p/static/view", found("GET /p/static/view")],
      // the static `static` node has no `edit` child: the match backtracks to the parameter
      ["GET", "/p/static/edit", found("GET /p/{id}/edit", { id: "static" })],
      ["GET", "/p/a/b", found("GET /p/{rest:path}", { rest: "a/b" })],
      ["GET", "/p/static/other", found("GET /p/{rest:path}", { rest: "static/other" })],
    ],
  },
  {
    name: "backtracking from a static branch to a parameter",
    routes: [["GET", "/a/{x}/c"], ["GET", "/a/b/d"]],
    lookups: [
      ["GET", "/a/b/c", found("GET /a/{x}/c", { x: "b" })],
      ["GET", "/a/b/d", found("GET /a/b/d")],
      ["GET", "/a/z/d", "not-found"],
    ],
  },
  {
    name: "same path, different methods, and method-not-allowed",
    routes: [
      ["POST", "/items"],
      ["GET", "/items"],
      ["DELETE", "/items/{id}"],
      ["GET", "/items/{id}"],
      ["PUT", "/items/special"],
    ],
    lookups: [
      ["GET", "/items", found("GET /items")],
      ["POST", "/items", found("POST /items")],
      ["PUT", "/items", allowed("GET", "POST")],
      ["HEAD", "/items", allowed("GET", "POST")], // the router adds no HEAD: RouterApp does
      ["OPTIONS", "/items", allowed("GET", "POST")],
      ["BREW", "/items", allowed("GET", "POST")], // unknown method
      ["DELETE", "/items/5", found("DELETE /items/{id}", { id: "5" })],
      ["PATCH", "/items/5", allowed("DELETE", "GET")],
      ["PUT", "/items/special", found("PUT /items/special")],
      ["GET", "/items/special", found("GET /items/{id}", { id: "special" })],
      ["PATCH", "/items/special", allowed("DELETE", "GET", "PUT")],
      ["PUT", "/items/", "not-found"],
      ["PATCH", "/nope", "not-found"],
    ],
  },
  {
    name: "not-found edge cases",
    routes: [["GET", "/a"], ["GET", "/{x}/b"]],
    lookups: [
      ["GET", "", "not-found"],
      ["GET", "*", "not-found"],
      ["GET", "a", "not-found"],
      ["GET", "/a/b/c", "not-found"],
      ["GET", "http://example.com/a", "not-found"],
    ],
  },
  {
    name: "decoded paths: %, ?, #, unicode are plain characters",
    routes: [["GET", "/users/{id}"], ["GET", "/files/{p:path}"], ["GET", "/100%"], ["GET", "/café"], ["GET", "/a b"]],
    lookups: [
      ["GET", "/users/a%b", found("GET /users/{id}", { id: "a%b" })],
      ["GET", "/users/%", found("GET /users/{id}", { id: "%" })],
      ["GET", "/users/%zz", found("GET /users/{id}", { id: "%zz" })],
      // no second decoding: the client sent %252F / %2525
      ["GET", "/users/%2F", found("GET /users/{id}", { id: "%2F" })],
      ["GET", "/users/%25", found("GET /users/{id}", { id: "%25" })],
      ["GET", "/users/a?b#c", found("GET /users/{id}", { id: "a?b#c" })],
      ["GET", "/users/a;b", found("GET /users/{id}", { id: "a;b" })],
      ["GET", "/users/?", found("GET /users/{id}", { id: "?" })],
      ["GET", "/users/café", found("GET /users/{id}", { id: "café" })],
      ["GET", "/users/\u{1F600}", found("GET /users/{id}", { id: "\u{1F600}" })],
      ["GET", "/files/x%2Fy/%3F?q=1#f", found("GET /files/{p:path}", { p: "x%2Fy/%3F?q=1#f" })],
      ["GET", "/100%", found("GET /100%")],
      ["GET", "/100%25", "not-found"],
      ["GET", "/café", found("GET /café")],
      ["GET", "/caf%C3%A9", "not-found"],
      ["GET", "/a b", found("GET /a b")],
      ["GET", "/a%20b", "not-found"],
    ],
  },
];

function check<T>(t: Test, result: RouteLookup<T>, expected: Expected, label: string): void {
  if (expected === "not-found") {
    t.strictSame(result, { kind: "not-found" }, label);
  } else if ("allowed" in expected) {
    t.strictSame(result, { kind: "method-not-allowed", allowed: expected.allowed }, label);
  } else if (result.kind !== "found") {
    t.fail(`${label}: expected ${expected.route}, got ${JSON.stringify(result)}`);
  } else {
    t.equal(result.value, expected.route, `${label}: route`);
    // spread: implementations may return a null-prototype object
    t.strictSame({ ...result.params }, expected.params ?? {}, `${label}: params`);
  }
}

/**
 * Runs the suite against routers made by `makeRouter`, as subtests of `t` named after `name`.
 *
 * @example
 * routerConformance(t, "FindMyWayRouter", () => new FindMyWayRouter());
 */
export function routerConformance(t: Test, name: string, makeRouter: MakeRouter): void {
  t.test(`${name}: router conformance`, async (t) => {
    for (const c of CASES) {
      for (const order of ["declared order", "reversed order"] as const) {
        t.test(`${c.name} (${order})`, async (t) => {
          const router = makeRouter<string>();
          const routes = order === "declared order" ? c.routes : [...c.routes].reverse();
          for (const [method, path] of routes) router.add(method, path, `${method} ${path}`);
          for (const [method, path, expected] of c.lookups) {
            check(t, router.lookup(method, path), expected, `${method} ${JSON.stringify(path)}`);
          }
        });
      }
    }

    t.test("each lookup gets its own params object", async (t) => {
      const router = makeRouter<string>();
      router.add("GET", "/users/{id}", "user");
      const first = router.lookup("GET", "/users/1");
      if (first.kind !== "found") throw new Error("expected a match");
      first.params.id = "tampered";
      first.params.extra = "x";
      check(t, router.lookup("GET", "/users/1"), found("user", { id: "1" }), "second lookup");
      check(t, router.lookup("GET", "/users/2"), found("user", { id: "2" }), "other value");
    });

    t.test("very long parameter values", async (t) => {
      const router = makeRouter<string>();
      router.add("GET", "/users/{id}", "user");
      router.add("GET", "/files/{p:path}", "file");
      const kilo = "k".repeat(1000);
      check(t, router.lookup("GET", `/users/${kilo}`), found("user", { id: kilo }), "1000 chars match");
      // beyond an implementation's limit a lookup may miss, but must not throw or truncate
      const huge = "h".repeat(100_000);
      const result = router.lookup("GET", `/users/${huge}`);
      if (result.kind === "found") t.equal(result.params.id, huge, "a huge value is returned whole");
      else t.equal(result.kind, "not-found", "or the route does not match");
      const deep = "/d".repeat(20_000);
      const wild = router.lookup("GET", `/files${deep}`);
      if (wild.kind === "found") t.equal(wild.params.p, deep.slice(1), "a long wildcard value is returned whole");
      else t.equal(wild.kind, "not-found");
    });

    t.test("duplicate registrations are errors", async (t) => {
      const dupes: Array<[string, string]> = [
        ["/a", "/a"],
        ["/u/{id}", "/u/{uid}"], // same path up to parameter names
        ["/u/{id}", "/u/:other"],
        ["/w/{p:path}", "/w/{q:path}"],
        ["/w/{p:path}", "/w/*"],
      ];
      for (const [first, second] of dupes) {
        const router = makeRouter<string>();
        router.add("GET", first, "first");
        t.throws(() => router.add("GET", second, "second"), { code: "LMR_ERR_ROUTE_DEFINITION" }, `${first} then ${second}`);
        // the first registration still stands, unchanged
        const probe = first.replace(/\{[^}]*\}|:[a-z]+|\*/g, "x");
        const result = router.lookup("GET", probe);
        t.equal(result.kind === "found" ? result.value : result.kind, "first", `${probe} still answers the first route`);
      }

      const router = makeRouter<string>();
      router.add("GET", "/a", "get");
      router.add("POST", "/a", "post");
      router.add("GET", "/a/", "slash");
      router.add("GET", "/a/{x}", "param");
      router.add("GET", "/a/{x:path}", "wild");
      router.add("GET", "/A", "upper");
      t.pass("same path under another method, trailing slash, param vs wildcard, other case: all distinct");
      check(t, router.lookup("GET", "/A"), found("upper"), "case-distinct route");
    });

    t.test("invalid path syntax is an error", async (t) => {
      const invalid = [
        "",
        "users",
        "/a/{",
        "/a/}",
        "/a/{}",
        "/a/{1x}",
        "/a/{x-y}",
        "/a/{x:int}",
        "/{p:path}/x",
        "/a/*/b",
        "/a?b",
        "/a#b",
        "/{a}{b}",
        "/{a}/{a}",
        "/{a}x",
        "/a/:",
      ];
      for (const path of invalid) {
        const router = makeRouter<string>();
        t.throws(() => router.add("GET", path, "x"), { code: "LMR_ERR_ROUTE_DEFINITION" }, JSON.stringify(path));
      }
    });
  });
}
