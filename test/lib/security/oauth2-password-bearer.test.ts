/**
 * OAuth2 password bearer: the token as resolved, the 401s (same rules as HTTP Bearer), and the
 * scheme object Swagger UI's Authorize dialog reads (flows.password.tokenUrl and scopes).
 */
import t from "tap";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { TestClient } from "../../../lib/test-client.js";
import { oauth2PasswordBearer } from "../../../lib/security/oauth2-password-bearer.js";

t.test("resolves the bearer token; 401 with the Bearer challenge otherwise", async (t) => {
  const app = new App({ logger: silentLogger });
  const oauth2 = oauth2PasswordBearer({ tokenUrl: "token" });
  app.get("/me", { deps: { token: oauth2 } }, ({ deps }) => ({ token: deps.token }));
  const c = new TestClient(app);
  t.strictSame((await c.get("/me", { headers: { authorization: "bearer t0k3n" } })).json(), { token: "t0k3n" });
  const missing = await c.get("/me");
  t.equal(missing.status, 401);
  t.equal(missing.headers["www-authenticate"], "Bearer");
  t.strictSame(missing.json(), { detail: "Not authenticated" });
  const basic = await c.get("/me", { headers: { authorization: "Basic YTpi" } });
  t.equal(basic.status, 401);
  t.equal(basic.headers["www-authenticate"], "Bearer");
  const empty = await c.get("/me", { headers: { authorization: "Bearer " } });
  t.equal(empty.status, 401);
  t.equal(empty.headers["www-authenticate"], 'Bearer error="invalid_token"');
  t.strictSame(empty.json(), { detail: "Invalid authentication credentials" });
});

t.test("autoError false resolves undefined", async (t) => {
  const app = new App({ logger: silentLogger });
  const oauth2 = oauth2PasswordBearer({ tokenUrl: "token", autoError: false });
  app.get("/me", { deps: { token: oauth2 } }, ({ deps }) => ({ token: deps.token ?? null }));
  t.strictSame((await new TestClient(app).get("/me")).json(), { token: null });
});

t.test("the scheme object: password flow, tokenUrl, scopes (always present), refreshUrl", async (t) => {
  t.strictSame(oauth2PasswordBearer({ tokenUrl: "/auth/token" }).security, {
    name: "OAuth2PasswordBearer",
    scheme: { type: "oauth2", flows: { password: { tokenUrl: "/auth/token", scopes: {} } } },
    scopes: [],
  });
  const full = oauth2PasswordBearer({
    tokenUrl: "token",
    refreshUrl: "refresh",
    scopes: { "books:read": "Read", "books:write": "Write" },
    description: "Log in",
    schemeName: "Login",
  });
  t.strictSame(full.security, {
    name: "Login",
    scheme: {
      type: "oauth2",
      flows: { password: { tokenUrl: "token", scopes: { "books:read": "Read", "books:write": "Write" }, refreshUrl: "refresh" } },
      description: "Log in",
    },
    scopes: [],
  });
  t.throws(() => oauth2PasswordBearer({ tokenUrl: "" }), TypeError);
  t.throws(() => oauth2PasswordBearer({ tokenUrl: "token", scopes: { "two words": "x" } }), TypeError);
  t.throws(() => oauth2PasswordBearer({ tokenUrl: "token", scopes: { 'q"uote': "x" } }), TypeError);
});
