import t from "tap";
import { App, TestClient, Type, silentLogger } from "../../../lib/index.js";

const Item = Type.Object({
  name: Type.String({ minLength: 1 }),
  price: Type.Number({ minimum: 0 }),
  tags: Type.Optional(Type.Array(Type.String(), { maxItems: 3 })),
});

function makeApp(): App {
  const app = new App({ logger: silentLogger });
  app.post("/items", { body: Item, response: { 200: Item } }, ({ body }) => body);
  app.get(
    "/search",
    {
      query: Type.Object({
        q: Type.String(),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
        tag: Type.Optional(Type.Array(Type.String())),
        exact: Type.Optional(Type.Boolean()),
      }),
    },
    ({ query }) => query,
  );
  app.get(
    "/whoami",
    { headers: Type.Object({ "x-token": Type.String({ minLength: 3 }) }), cookies: Type.Object({ session: Type.String() }) },
    ({ headers, cookies }) => ({ token: headers["x-token"], session: cookies.session }),
  );
  return app;
}

type Issue = { loc: Array<string | number>; msg: string; type: string };

t.test("a valid body is parsed, validated and echoed", async (t) => {
  const res = await new TestClient(makeApp()).post("/items", { json: { name: "pen", price: 1.5, tags: ["a"] } });
  t.equal(res.status, 200);
  t.strictSame(res.json(), { name: "pen", price: 1.5, tags: ["a"] });
});

t.test("every body error is reported at once, FastAPI-shaped", async (t) => {
  const res = await new TestClient(makeApp()).post("/items", { json: { name: "", price: "cheap", tags: ["a", "b", "c", "d"] } });
  t.equal(res.status, 422);
  const { detail } = res.json<{ detail: Issue[] }>();
  const locs = detail.map((issue) => issue.loc.join("."));
  t.ok(locs.includes("body.name"), "too short name");
  t.ok(locs.includes("body.price"), "price of the wrong type");
  t.ok(locs.includes("body.tags"), "too many tags");
  for (const issue of detail) {
    t.type(issue.msg, "string");
    t.type(issue.type, "string");
  }
});

t.test("missing fields are reported with type 'missing'", async (t) => {
  const res = await new TestClient(makeApp()).post("/items", { json: {} });
  t.equal(res.status, 422);
  const detail = res.json<{ detail: Issue[] }>().detail;
  t.strictSame(
    detail.filter((i) => i.type === "missing").map((i) => i.loc),
    [
      ["body", "name"],
      ["body", "price"],
    ],
  );
});

t.test("the body is not coerced: a numeric string is not a number", async (t) => {
  const res = await new TestClient(makeApp()).post("/items", { json: { name: "pen", price: "5" } });
  t.equal(res.status, 422);
});

t.test("extra body fields are ignored on the way in and dropped on the way out", async (t) => {
  const res = await new TestClient(makeApp()).post("/items", { json: { name: "pen", price: 1, secret: "hunter2" } });
  t.equal(res.status, 200);
  t.strictSame(res.json(), { name: "pen", price: 1 });
  t.notMatch(res.text, /hunter2/);
});

t.test("malformed JSON is a 422 naming the problem", async (t) => {
  const res = await new TestClient(makeApp()).post("/items", { body: '{"name": "pen", ', headers: { "content-type": "application/json" } });
  t.equal(res.status, 422);
  const [issue] = res.json<{ detail: Issue[] }>().detail;
  t.equal(issue!.type, "json_invalid");
  t.equal(issue!.loc[0], "body");
});

t.test("a body with the wrong content type is 415", async (t) => {
  const res = await new TestClient(makeApp()).post("/items", { body: "name=pen", headers: { "content-type": "application/x-www-form-urlencoded" } });
  t.equal(res.status, 415);
  t.match(res.json<{ detail: string }>().detail, /application\/json/);
  // FastAPI reads a body without a content type as JSON; laminar refuses it: a cross-site fetch()
  // with a Blob body sends none and needs no CORS preflight (the CSRF route of CVE-2021-32677).
  const none = await new TestClient(makeApp()).post("/items", { body: '{"name":"pen","price":1}' });
  t.equal(none.status, 415, "no content type at all");
});

t.test("an empty body where one is required is a 422 'missing' at body", async (t) => {
  const res = await new TestClient(makeApp()).post("/items", { headers: { "content-type": "application/json" } });
  t.equal(res.status, 422);
  t.strictSame(res.json<{ detail: Issue[] }>().detail[0]!.loc, ["body"]);
});

t.test("a body streamed in many chunks is reassembled", async (t) => {
  const res = await new TestClient(makeApp()).post("/items", { json: { name: "a long enough name", price: 3 }, chunks: 7 });
  t.equal(res.status, 200);
  t.equal(res.json<{ name: string }>().name, "a long enough name");
});

t.test("a body over the route's limit is 413", async (t) => {
  const app = new App({ logger: silentLogger, maxBodySize: 64 });
  app.post("/items", { body: Item }, ({ body }) => body);
  const res = await new TestClient(app).post("/items", { json: { name: "x".repeat(100), price: 1 }, chunks: 4 });
  t.equal(res.status, 413);
});

t.test("query strings are coerced, defaulted, and repeated keys become arrays", async (t) => {
  const client = new TestClient(makeApp());
  const res = await client.get("/search?q=dune&tag=a&tag=b&exact=true");
  t.strictSame(res.json(), { q: "dune", limit: 20, tag: ["a", "b"], exact: true });
  const one = await client.get("/search", { query: { q: "x", tag: "solo", limit: 5 } });
  t.strictSame(one.json(), { q: "x", limit: 5, tag: ["solo"] });
});

t.test("bad query values are 422 with the query location", async (t) => {
  const res = await new TestClient(makeApp()).get("/search?limit=many");
  t.equal(res.status, 422);
  const locs = res.json<{ detail: Issue[] }>().detail.map((i) => i.loc.join("."));
  t.ok(locs.includes("query.q"), "missing q");
  t.ok(locs.includes("query.limit"), "non-integer limit");
  const over = await new TestClient(makeApp()).get("/search?q=x&limit=101");
  t.equal(over.status, 422);
});

t.test("headers and cookies are validated by name", async (t) => {
  const client = new TestClient(makeApp());
  const ok = await client.get("/whoami", { headers: { "X-Token": "abcd", cookie: "session=s1; other=2" } });
  t.equal(ok.status, 200);
  t.strictSame(ok.json(), { token: "abcd", session: "s1" });
  const bad = await client.get("/whoami", { headers: { "x-token": "a" } });
  t.equal(bad.status, 422);
  const locs = bad.json<{ detail: Issue[] }>().detail.map((i) => i.loc.join("."));
  t.ok(locs.includes("header.x-token"));
  t.ok(locs.includes("cookie.session"));
});

t.test("path errors are reported at path", async (t) => {
  const app = new App({ logger: silentLogger });
  app.get("/books/{id}", { params: Type.Object({ id: Type.Integer() }) }, ({ params }) => params);
  const res = await new TestClient(app).get("/books/abc");
  t.equal(res.status, 422);
  t.strictSame(res.json<{ detail: Issue[] }>().detail[0]!.loc, ["path", "id"]);
});

t.test("a user handler for validation errors replaces the default", async (t) => {
  const app = makeApp();
  const { RequestValidationError, JSONResponse } = await import("../../../lib/index.js");
  app.exceptionHandler(RequestValidationError, (error) => new JSONResponse({ errors: error.issues.length }, { status: 400 }));
  const res = await new TestClient(app).post("/items", { json: {} });
  t.equal(res.status, 400);
  t.strictSame(res.json(), { errors: 2 });
});
