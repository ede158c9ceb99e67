/**
 * Response parts (`ctx.response`): headers, cookies and a status for a plain return value, and
 * headers added to a returned response object; nothing of them on error responses; a dependency
 * sets them through the scope. Then the same over a real socket on both servers, where repeated
 * Set-Cookie headers must survive as separate lines.
 */
import t from "tap";
import { request } from "undici";
import { App, TestClient, HttpException, RedirectResponse, dependency, silentLogger, Type } from "../../../lib/index.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { responseParts } from "../../../layers/handler/response-parts.js";
import { unsignCookieValue } from "../../../layers/handler/cookies.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

const KEY = "k".repeat(40);

t.test("a plain value gets the parts' status, headers and cookies after the serializer's own", async (t) => {
  const app = new App({ logger: silentLogger });
  app.post("/items", { response: Type.Object({ id: Type.Integer() }), status: 200 }, ({ response }) => {
    response.status = 201;
    response.setHeader("Location", "/items/1").setCookie("last", "1");
    return { id: 1, secret: "dropped" } as { id: number };
  });
  const res = await new TestClient(app).post("/items");
  t.equal(res.status, 201, "the status set on the parts");
  t.strictSame(res.json(), { id: 1 }, "still serialized by the response schema");
  t.equal(res.headers["location"], "/items/1");
  t.equal(res.headers["content-type"], "application/json");
  t.equal(res.headers["set-cookie"], "last=1; Path=/; HttpOnly; SameSite=Lax");
  t.equal(res.headers["content-length"], String(res.body.length));
});

t.test("a content-type set on the parts replaces the serializer's", async (t) => {
  const app = new App({ logger: silentLogger });
  app.get("/problem", ({ response }) => {
    response.setHeader("content-type", "application/problem+json");
    return { title: "x" };
  });
  const res = await new TestClient(app).get("/problem");
  t.equal(res.headerList.filter(([name]) => name === "content-type").length, 1, "one content-type");
  t.equal(res.headers["content-type"], "application/problem+json");
});

t.test("a 204 set on the parts sends no body", async (t) => {
  const app = new App({ logger: silentLogger });
  app.delete("/x", ({ response }) => {
    response.status = 204;
    return { ignored: true };
  });
  const res = await new TestClient(app).delete("/x");
  t.equal(res.status, 204);
  t.equal(res.body.length, 0);
});

t.test("a dependency's cookie reaches a redirect the handler returns; error responses get nothing", async (t) => {
  const remember = dependency({}, ({ scope }) => {
    responseParts(scope).setCookie("visited", "yes", { maxAge: 60 });
    return true;
  });
  const app = new App({ logger: silentLogger });
  app.get("/go", { deps: { remember } }, () => new RedirectResponse("/there"));
  app.get("/fail", { deps: { remember } }, () => {
    throw new HttpException(409);
  });
  const client = new TestClient(app);
  const go = await client.get("/go");
  t.equal(go.status, 307);
  t.equal(go.headers["set-cookie"], "visited=yes; Max-Age=60; Path=/; HttpOnly; SameSite=Lax");
  const fail = await client.get("/fail");
  t.equal(fail.status, 409);
  t.equal(fail.headers["set-cookie"], undefined, "no cookie on the error");
});

t.test("a signed cookie round-trips and a tampered one is refused", async (t) => {
  const app = new App({ logger: silentLogger });
  app.get("/login", ({ response }) => {
    response.setCookie("user", "ada", { signWith: [KEY] });
    return {};
  });
  app.get("/me", ({ cookies }) => ({ user: unsignCookieValue("user", cookies.user, [KEY]) ?? null }));
  const client = new TestClient(app);
  const header = (await client.get("/login")).headers["set-cookie"]!;
  const value = /^user=([^;]*)/.exec(header)![1]!;
  t.match(decodeURIComponent(value), /^ada\.[A-Za-z0-9_-]{43}$/, "value.signature");
  t.strictSame((await client.get("/me", { headers: { cookie: `user=${value}` } })).json(), { user: "ada" });
  const forged = value.replace(/^ada/, "eve");
  t.strictSame((await client.get("/me", { headers: { cookie: `user=${forged}` } })).json(), { user: null }, "tampered value");
  t.strictSame((await client.get("/me", { headers: { cookie: "user=ada" } })).json(), { user: null }, "unsigned value");
});

for (const server of ["node", "uws"] as const) {
  t.test(`on ${server}: several Set-Cookie lines stay separate on the wire`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const app = new App({ logger: silentLogger, server });
    app.get("/", ({ response }) => {
      response.setCookie("a", "1").setCookie("b", "two words", { secure: true, sameSite: "none" }).deleteCookie("old");
      return { ok: true };
    });
    const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));
    const res = await request(url);
    t.same(await res.body.json(), { ok: true });
    const cookies = res.headers["set-cookie"];
    t.strictSame(cookies, [
      "a=1; Path=/; HttpOnly; SameSite=Lax",
      "b=two%20words; Path=/; HttpOnly; Secure; SameSite=None",
      "old=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax",
    ]);
  });
}
