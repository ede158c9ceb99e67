/**
 * The password grant's form: every field, scopes split, missing/repeated/invalid fields as 422
 * issues that never echo the password, the content type (415) and the size limit (413), a body
 * arriving in several chunks.
 */
import t from "tap";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { TestClient } from "../../../lib/test-client.js";
import { parsePasswordForm, readPasswordForm } from "../../../lib/security/password-form.js";
import { RequestValidationError } from "../../../lib/errors.js";

const FORM = { "content-type": "application/x-www-form-urlencoded" };

function client(): TestClient {
  const app = new App({ logger: silentLogger });
  app.post("/token", async (ctx) => ({ ...(await readPasswordForm(ctx, { maxBytes: 256 })) }));
  return new TestClient(app);
}

t.test("every field, as Swagger UI posts them", async (t) => {
  const res = await client().post("/token", {
    headers: FORM,
    body: "grant_type=password&username=j%C3%BCrgen&password=p%40ss+word%26&scope=books%3Aread++books%3Awrite&client_id=ui&client_secret=shh",
    chunks: 3,
  });
  t.equal(res.status, 200);
  t.strictSame(res.json(), {
    grantType: "password",
    username: "jürgen",
    password: "p@ss word&",
    scopes: ["books:read", "books:write"],
    clientId: "ui",
    clientSecret: "shh",
  });
});

t.test("grant_type and the optional fields may be left out", async (t) => {
  const form = parsePasswordForm("username=a&password=");
  t.strictSame(form, { grantType: undefined, username: "a", password: "", scopes: [], clientId: undefined, clientSecret: undefined });
  t.equal(parsePasswordForm(Buffer.from("username=a&password=b&grant_type=password")).grantType, "password");
});

t.test("problems are 422 issues at body.<field>, secrets never echoed", async (t) => {
  const c = client();
  const missing = await c.post("/token", { headers: FORM, body: "grant_type=password" });
  t.equal(missing.status, 422);
  t.strictSame(
    missing.json<{ detail: Array<{ loc: string[]; type: string }> }>().detail.map((i) => [i.loc.join("."), i.type]),
    [
      ["body.username", "missing"],
      ["body.password", "missing"],
    ],
  );
  const repeated = await c.post("/token", { headers: FORM, body: "username=a&password=hunter2&password=hunter3&grant_type=client_credentials" });
  t.equal(repeated.status, 422);
  const detail = repeated.json<{ detail: Array<{ loc: string[]; type: string }> }>().detail;
  t.strictSame(
    detail.map((i) => [i.loc.join("."), i.type]),
    [
      ["body.password", "repeated_parameter"],
      ["body.grant_type", "string_pattern_mismatch"],
    ],
  );
  t.notMatch(repeated.text, /hunter/, "the password is not echoed");
  const secret = await c.post("/token", { headers: FORM, body: "username=a&password=b&client_secret=s1&client_secret=s2" });
  t.equal(secret.status, 422);
  t.notMatch(secret.text, /s1|s2/);
  const scope = await c.post("/token", { headers: FORM, body: "username=a&password=b&scope=ok%20bad%22scope" });
  t.equal(scope.status, 422);
  t.match(scope.json(), { detail: [{ loc: ["body", "scope"], type: "invalid_scope" }] });
  t.throws(() => parsePasswordForm(""), RequestValidationError);
});

t.test("wrong content type is 415; an over-long body 413", async (t) => {
  const c = client();
  const json = await c.post("/token", { json: { username: "a", password: "b" } });
  t.equal(json.status, 415);
  t.notMatch(json.text, /"b"/);
  t.equal((await c.post("/token", { body: "username=a&password=b" })).status, 415, "no content type");
  t.equal((await c.post("/token", { headers: { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" }, body: "username=a&password=b" })).status, 200);
  t.equal((await c.post("/token", { headers: { "content-type": "Application/X-WWW-Form-Urlencoded" }, body: "username=a&password=b" })).status, 200);
  t.equal((await c.post("/token", { headers: FORM, body: `username=a&password=${"x".repeat(300)}` })).status, 413);
});
