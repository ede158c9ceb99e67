import t from "tap";
import { App, APIRouter, TestClient, silentLogger } from "../../lib/index.js";

t.test("prefixes and tags compose through nested includes", async (t) => {
  const books = new APIRouter({ prefix: "/books", tags: ["books"] });
  books.get("/{id}", { tags: ["read"] }, ({ params }) => ({ id: params.id }));
  books.get("", () => ["all"]);
  const v1 = new APIRouter({ prefix: "/v1" });
  v1.include(books);
  const app = new App({ logger: silentLogger });
  app.include(v1, { prefix: "/api", tags: ["public"] });
  const client = new TestClient(app);
  t.strictSame((await client.get("/api/v1/books/7")).json(), { id: "7" });
  t.strictSame((await client.get("/api/v1/books")).json(), ["all"]);
  t.equal((await client.get("/v1/books/7")).status, 404);
  const route = app.routes.find((r) => r.path === "/api/v1/books/{id}");
  t.strictSame(route?.options.tags, ["public", "books", "read"]);
});

t.test("routes added after an include are not copied (as FastAPI)", async (t) => {
  const router = new APIRouter();
  const app = new App({ logger: silentLogger });
  app.include(router);
  router.get("/late", () => ({}));
  t.equal((await new TestClient(app).get("/late")).status, 404);
});

t.test("bad prefixes and paths are rejected at declaration", async (t) => {
  t.throws(() => new APIRouter({ prefix: "books" }), /must start with/);
  t.throws(() => new APIRouter({ prefix: "/books/" }), /not end with/);
  t.throws(() => new APIRouter().get("nope", () => ({})), /must start with/);
});

t.test("the same method and path twice fails when the app is built", async (t) => {
  const app = new App({ logger: silentLogger });
  app.get("/a", () => 1);
  app.get("/a", () => 2);
  t.throws(() => app.build(), /\/a/);
});

t.test("route() declares several methods at once", async (t) => {
  const app = new App({ logger: silentLogger });
  app.route(["put", "patch"], "/thing", {}, ({ scope }) => ({ method: scope.method }));
  const client = new TestClient(app);
  t.strictSame((await client.put("/thing")).json(), { method: "PUT" });
  t.strictSame((await client.patch("/thing")).json(), { method: "PATCH" });
});
