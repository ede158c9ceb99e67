/**
 * HS256 JWTs: round trip, expiry and nbf against an injected clock, and refusal of every forgery
 * (wrong key, changed payload, alg none, another header, non-canonical signatures, bad shapes).
 */
import t from "tap";
import { createHmac } from "node:crypto";
import { signJwt, verifyJwt } from "../../../lib/security/jwt-hs256.js";

const KEY = "k".repeat(32);
const T0 = 1_700_000_000_000;
const at = (ms: number) => () => ms;
const b64u = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

t.test("round trip with expiry", async (t) => {
  const token = signJwt({ sub: "alice", scopes: ["books:write"] }, KEY, { expiresIn: 60, now: at(T0) });
  t.match(token, /^eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.[\w-]+\.[\w-]{43}$/);
  t.strictSame(verifyJwt(token, KEY, { now: at(T0 + 59_000) }), { sub: "alice", scopes: ["books:write"], iat: T0 / 1000, exp: T0 / 1000 + 60 });
  t.equal(verifyJwt(token, KEY, { now: at(T0 + 60_000) }), undefined, "expired at exp");
  t.ok(verifyJwt(token, KEY, { now: at(T0 + 65_000), leeway: 10 }), "leeway");
  t.ok(verifyJwt(token, Buffer.from(KEY), { now: at(T0) }), "a Buffer key is the same key");
});

t.test("forgeries and malformed tokens are undefined", async (t) => {
  const token = signJwt({ sub: "alice", scopes: [] }, KEY, { expiresIn: 60, now: at(T0) });
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const now = { now: at(T0) };
  const forgedPayload = b64u({ sub: "alice", scopes: ["admin"], exp: T0 / 1000 + 60 });
  const none = `${b64u({ alg: "none", typ: "JWT" })}.${payload}.`;
  const otherHeader = b64u({ typ: "JWT", alg: "HS256" });
  const otherHeaderSigned = `${otherHeader}.${payload}.${createHmac("sha256", KEY).update(`${otherHeader}.${payload}`).digest("base64url")}`;
  const lastChar = signature.at(-1)!;
  // The last of 43 characters carries 4 bits of signature and 2 ignored bits: flip an ignored one.
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const nonCanonical = signature.slice(0, -1) + alphabet[alphabet.indexOf(lastChar) ^ 1];
  for (const [what, bad] of [
    ["another key", signJwt({ sub: "alice", exp: T0 / 1000 + 60 }, "x".repeat(32))],
    ["changed payload", `${header}.${forgedPayload}.${signature}`],
    ["alg none", none],
    ["alg none with a signature", `${none}${signature}`],
    ["another header spelling", otherHeaderSigned],
    ["non-canonical signature", `${header}.${payload}.${nonCanonical}`],
    ["truncated signature", `${header}.${payload}.${signature.slice(0, -2)}`],
    ["two parts", `${header}.${payload}`],
    ["four parts", `${token}.x`],
    ["padding", `${token}=`],
    ["empty", ""],
  ] as const) {
    t.equal(verifyJwt(bad, KEY, now), undefined, what);
  }
  const noExp = `${header}.${b64u({ sub: "a" })}`;
  t.equal(verifyJwt(`${noExp}.${createHmac("sha256", KEY).update(noExp).digest("base64url")}`, KEY, now), undefined, "exp is required");
  const arrayPayload = `${header}.${b64u([1])}`;
  t.equal(verifyJwt(`${arrayPayload}.${createHmac("sha256", KEY).update(arrayPayload).digest("base64url")}`, KEY, now), undefined);
  const notJson = `${header}.${b64u("{nope")}`;
  t.equal(verifyJwt(`${notJson}.${createHmac("sha256", KEY).update(notJson).digest("base64url")}`, KEY, now), undefined);
});

t.test("nbf, keys and expiry are required where they must be", async (t) => {
  const later = signJwt({ sub: "a", nbf: T0 / 1000 + 30, exp: T0 / 1000 + 60 }, KEY);
  t.equal(verifyJwt(later, KEY, { now: at(T0) }), undefined, "not yet valid");
  t.ok(verifyJwt(later, KEY, { now: at(T0 + 30_000) }));
  t.throws(() => signJwt({ sub: "a" }, KEY), TypeError, "no expiry");
  t.throws(() => signJwt({ sub: "a" }, "short", { expiresIn: 1 }), TypeError, "a key under 32 bytes");
  t.throws(() => verifyJwt("a.b.c", "short"), TypeError);
});
