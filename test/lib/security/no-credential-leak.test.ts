/**
 * No credential in a log line or an error body, over real sockets on node:http and uWS: every
 * scheme's refusals (missing, malformed, wrong), a handler failing with a 500 while credentials
 * are on the request (the error log), with the access log and pino at debug capturing every line.
 */
import t from "tap";
import { pino } from "pino";
import { request } from "undici";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { accessLog } from "../../../layers/middleware/access-log.js";
import { apiKeyCookie, apiKeyHeader, apiKeyQuery } from "../../../lib/security/api-key.js";
import { httpBasic } from "../../../lib/security/http-basic.js";
import { httpBearer } from "../../../lib/security/http-bearer.js";
import { oauth2PasswordBearer } from "../../../lib/security/oauth2-password-bearer.js";
import { requireScopes } from "../../../lib/security/require-scopes.js";
import { safeCompare } from "../../../lib/security/safe-compare.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

const SECRET = "Sup3rSecretValue";
const b64 = (s: string) => Buffer.from(s).toString("base64");

for (const server of ["node", "uws"] as const) {
  t.test(`nothing leaks on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const lines: string[] = [];
    const logger = pino({ level: "debug", base: null }, { write: (s: string) => void lines.push(s) });
    const app = new App({ logger, server });
    app.use(accessLog({ logger }));
    const header = apiKeyHeader({ name: "x-api-key" });
    const basic = httpBasic();
    const oauth2 = oauth2PasswordBearer({ tokenUrl: "token", scopes: { write: "w" } });
    app.get("/header", { deps: { key: header } }, ({ deps }) => {
      if (!safeCompare(deps.key, "right-key")) throw header.unauthorized();
      return {};
    });
    app.get("/query", { deps: { key: apiKeyQuery({ name: "key" }) } }, () => ({}));
    app.get("/cookie", { deps: { key: apiKeyCookie({ name: "key" }) } }, () => ({}));
    app.get("/basic", { deps: { c: basic } }, () => {
      throw basic.unauthorized();
    });
    app.get("/bearer", { deps: { token: httpBearer() } }, () => ({}));
    app.get("/scoped", { deps: { p: requireScopes(oauth2, ["write"], (token) => (token === "reader" ? { scopes: [] } : undefined)) } }, () => ({}));
    app.get("/boom", { deps: { token: httpBearer() } }, () => {
      throw new Error("handler failed");
    });
    const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));

    const attempts: Array<[string, Record<string, string>, number]> = [
      ["/header", { "x-api-key": SECRET }, 401],
      ["/query?key=" + SECRET, {}, 200],
      ["/cookie", { cookie: `key=${SECRET}` }, 200],
      ["/basic", { authorization: `Basic ${b64(`user:${SECRET}`)}` }, 401],
      ["/basic", { authorization: `Basic ${b64(SECRET)}` }, 401],
      ["/basic", { authorization: `Basic ${SECRET}!` }, 401],
      ["/bearer", { authorization: `Bearer ${SECRET} x` }, 401],
      ["/bearer", { authorization: `Token ${SECRET}` }, 401],
      ["/scoped", { authorization: `Bearer ${SECRET}` }, 401],
      ["/scoped", { authorization: "Bearer reader" }, 403],
      ["/boom", { authorization: `Bearer ${SECRET}` }, 500],
    ];
    for (const [path, headers, status] of attempts) {
      const res = await request(`${url}${path}`, { headers });
      const body = await res.body.text();
      t.equal(res.statusCode, status, path);
      t.notMatch(body, SECRET, `${path}: not in the body`);
      t.notMatch(JSON.stringify(res.headers), SECRET, `${path}: not in the response headers`);
    }
    t.ok(lines.length >= attempts.length, "one access line per request at least");
    t.ok(lines.some((line) => line.includes("handler failed")), "the 500 was logged");
    const leaked = lines.filter((line) => line.includes(SECRET) || line.includes(b64(`user:${SECRET}`)));
    t.strictSame(leaked, [], "no line holds the secret");
  });
}

t.test("the challenge header crosses a real socket", async (t) => {
  const app = new App({ logger: silentLogger });
  app.get("/k", { deps: { key: apiKeyHeader({ name: "k" }) } }, () => ({}));
  const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
  t.teardown(() => app.close({ timeout: 1_000 }));
  const res = await request(`${url}/k`);
  t.equal(res.statusCode, 401);
  t.equal(res.headers["www-authenticate"], "APIKey");
  await res.body.dump();
});
