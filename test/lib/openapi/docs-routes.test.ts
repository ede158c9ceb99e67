/**
 * Serving: /openapi.json, Swagger UI at /docs (+ oauth2-redirect) and ReDoc at /redoc. The pages
 * refer only to the app's own URLs, and every one of those answers 200 with the right type; the
 * paths can be moved or turned off; a mounted app serves its own docs under its prefix. In-process,
 * then over real sockets on node:http and uWebSockets.js.
 */
import t from "tap";
import { join } from "node:path";
import { request } from "undici";
import { Type } from "@sinclair/typebox";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { TestClient } from "../../../lib/test-client.js";
import { createBookstore } from "../../../examples/bookstore/app.js";
import { escapeHtml } from "../../../lib/openapi/docs-html.js";
import { validateDocument } from "./validate-document.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

/** The URLs of `src` and `href` attributes, and of `data-*-url` / `spec-url` attributes. */
export function pageUrls(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href|spec-url|data-[a-z0-9-]+-url)="([^"]*)"/g)].map((match) => match[1]!.replace(/&#38;/g, "&"));
}

const EXPECTED_TYPES: Array<[RegExp, RegExp]> = [
  [/\.css$/, /^text\/css/],
  [/\.js$/, /^(text|application)\/javascript/],
  [/\.png$/, /^image\/png$/],
  [/\.json$/, /^application\/json/],
  [/oauth2-redirect$/, /^text\/html/],
];

function expectedType(url: string): RegExp {
  return EXPECTED_TYPES.find(([pattern]) => pattern.test(url))?.[1] ?? /^application\/json/;
}

const smallApp = (options: ConstructorParameters<typeof App>[0] = {}): App => {
  const app = new App({ logger: silentLogger, ...options });
  app.get("/items/{id}", { params: Type.Object({ id: Type.Integer() }), tags: ["items"] }, () => ({}));
  return app;
};

t.test("the pages and their assets, in-process", async (t) => {
  const app = createBookstore({ logger: silentLogger, databaseFile: ":memory:" });
  const client = new TestClient(app);
  const spec = await client.get("/openapi.json");
  t.equal(spec.status, 200);
  t.match(spec.headers["content-type"], /^application\/json/);
  const served = JSON.parse(spec.text) as { paths: Record<string, unknown>; openapi: string };
  t.same(served, JSON.parse(JSON.stringify(app.openapi())), "the served document is app.openapi()");
  t.ok((await validateDocument(served)).valid, "and it validates");
  for (const path of ["/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect", "/docs/swagger-ui-bundle.js"]) {
    t.notOk(path in served.paths, `${path} is not in the document`);
  }

  for (const page of ["/docs", "/redoc"]) {
    const response = await client.get(page);
    t.equal(response.status, 200, page);
    t.equal(response.headers["content-type"], "text/html; charset=utf-8");
    t.notMatch(response.text, /<script>/, `${page} has no inline script`);
    const urls = pageUrls(response.text);
    t.ok(urls.length >= 2, `${page} refers to its assets: ${urls.join(" ")}`);
    for (const url of urls) {
      t.ok(url.startsWith("/") && !url.startsWith("//"), `${page}: ${url} is the app's own`);
      const asset = await client.get(url);
      t.equal(asset.status, 200, `${url} answers`);
      t.match(asset.headers["content-type"], expectedType(url), `${url} has the right type`);
      t.ok(asset.body.length > 0, `${url} has a body`);
    }
  }
  t.match((await client.get("/redoc")).headers["content-security-policy"], /img-src 'self' data:/, "ReDoc's CDN logo is refused by the page's CSP");
  const docs = (await client.get("/docs")).text;
  t.match(docs, /data-oauth2-redirect-url="\/docs\/oauth2-redirect"/);
  const bundle = await client.get("/docs/swagger-ui-bundle.js");
  t.ok(bundle.body.length > 500_000, "the real Swagger UI bundle");
  t.ok(bundle.headers.etag, "assets have an ETag");
  t.equal((await client.get("/docs/swagger-ui-bundle.js", { headers: { "if-none-match": bundle.headers.etag! } })).status, 304, "and revalidate");
  const redirect = await client.get("/docs/oauth2-redirect");
  t.match(redirect.text, /<script src="oauth2-redirect.js"><\/script>/, "the redirect page loads its script relative to itself");
  t.equal((await client.get("/docs/oauth2-redirect.js")).status, 200);
  t.match((await client.get("/redoc/redoc.standalone.js")).text.slice(0, 2000), /Redoc|redoc|ReDoc/);
  t.equal((await client.get("/docs/../package.json")).status, 404, "nothing else of the packages is served");
  t.equal((await client.get("/docs/index.html")).status, 404);
});

t.test("paths moved or turned off, 3.0.3, title escaped", async (t) => {
  const off = new TestClient(smallApp({ openapiUrl: null }));
  for (const path of ["/openapi.json", "/docs", "/redoc", "/docs/swagger-ui.css"]) t.equal((await off.get(path)).status, 404, `openapiUrl: null turns ${path} off`);

  const noPages = new TestClient(smallApp({ docsUrl: null, redocUrl: null }));
  t.equal((await noPages.get("/openapi.json")).status, 200);
  t.equal((await noPages.get("/docs")).status, 404);
  t.equal((await noPages.get("/redoc")).status, 404);
  t.equal((await noPages.get("/redoc/redoc.standalone.js")).status, 404);

  const moved = smallApp({ openapiUrl: "/api/schema.json", docsUrl: "/api/ui", redocUrl: "/api/reference", openapiVersion: "3.0.3", title: `</title><script>alert(1)</script>` });
  const client = new TestClient(moved);
  const spec = JSON.parse((await client.get("/api/schema.json")).text) as { openapi: string; info: { title: string } };
  t.equal(spec.openapi, "3.0.3", "the openapiVersion option is what is served");
  t.ok((await validateDocument(spec)).valid);
  t.equal(spec.info.title, `</title><script>alert(1)</script>`);
  const page = (await client.get("/api/ui")).text;
  t.notMatch(page, /<script>alert/, "the title is escaped");
  t.match(page, escapeHtml(`</title><script>alert(1)</script>`));
  for (const url of pageUrls(page)) t.equal((await client.get(url)).status, 200, `${url} under the moved path`);
  t.match(page, /data-openapi-url="\/api\/schema.json"/);
  const redoc = (await client.get("/api/reference")).text;
  t.match(redoc, /spec-url="\/api\/schema.json"/);
  for (const url of pageUrls(redoc)) t.equal((await client.get(url)).status, 200, url);
  t.equal((await client.get("/docs")).status, 404, "the default path is free");
  t.throws(() => smallApp({ docsUrl: "docs" }).build(), TypeError, "a URL not starting with / fails when the app is built");
});

t.test("a mounted app serves its own docs under its prefix", async (t) => {
  const inner = smallApp({ title: "Inner" });
  const outer = new App({ logger: silentLogger, title: "Outer" });
  outer.get("/health", () => ({ ok: true }));
  outer.mount("/v1", inner);
  const client = new TestClient(outer);
  const outerSpec = JSON.parse((await client.get("/openapi.json")).text) as { paths: Record<string, unknown>; servers?: unknown };
  t.same(Object.keys(outerSpec.paths), ["/health"], "the mounted app's routes are not in the outer document");
  t.notOk("servers" in outerSpec);
  const innerSpec = JSON.parse((await client.get("/v1/openapi.json")).text) as { paths: Record<string, unknown>; servers: unknown; info: { title: string } };
  t.equal(innerSpec.info.title, "Inner");
  t.same(innerSpec.servers, [{ url: "/v1" }], "the mount prefix is the first server");
  t.same(Object.keys(innerSpec.paths), ["/items/{id}"]);
  t.ok((await validateDocument(innerSpec)).valid);
  const page = (await client.get("/v1/docs")).text;
  const urls = pageUrls(page);
  t.ok(urls.every((url) => url.startsWith("/v1/")), `every URL has the prefix: ${urls.join(" ")}`);
  for (const url of urls) t.equal((await client.get(url)).status, 200, url);
  t.same(JSON.parse((await client.get("/openapi.json")).text), outerSpec, "the cached outer text is unchanged");
  t.equal(inner.openapi().servers, undefined, "the app's own document has no servers: the prefix is added when served");
});

for (const server of ["node", "uws"] as const) {
  t.test(`the pages over real sockets on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const app = createBookstore({ logger: silentLogger, databaseFile: join(t.testdir(), "bookstore.db"), server });
    const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));
    for (const page of ["/docs", "/redoc"]) {
      const response = await request(`${url}${page}`);
      t.equal(response.statusCode, 200);
      const html = await response.body.text();
      for (const asset of pageUrls(html)) {
        const got = await request(`${url}${asset}`, { headers: { "accept-encoding": "identity" } });
        t.equal(got.statusCode, 200, `${asset} over ${server}`);
        t.match(String(got.headers["content-type"]), expectedType(asset));
        const bytes = Buffer.from(await got.body.arrayBuffer());
        const length = got.headers["content-length"];
        if (length !== undefined) t.equal(bytes.length, Number(length), `${asset}: all the bytes arrive`);
      }
    }
    const head = await request(`${url}/redoc/redoc.standalone.js`, { method: "HEAD" });
    t.equal(head.statusCode, 200, "HEAD on an asset");
    t.equal((await head.body.text()).length, 0);
    // A client that goes away in the middle of the 1.7 MB bundle leaves the server serving.
    const aborted = new AbortController();
    const partial = await request(`${url}/docs/swagger-ui-bundle.js`, { signal: aborted.signal, headers: { "accept-encoding": "identity" } });
    for await (const _chunk of partial.body) {
      aborted.abort();
      break;
    }
    const after = await request(`${url}/openapi.json`);
    t.equal(after.statusCode, 200, "still serving after an aborted download");
    await after.body.json();
  });
}
