/** Set-Cookie serialization and signed cookie values, including what a hostile client may send back. */
import t from "tap";
import { deleteCookieHeader, setCookieHeader, signCookieValue, unsignCookieValue } from "../../../layers/handler/cookies.js";

const CURRENT = "c".repeat(32);
const PREVIOUS = "p".repeat(32);

t.test("safe defaults and every attribute", async (t) => {
  t.equal(setCookieHeader("id", "1"), "id=1; Path=/; HttpOnly; SameSite=Lax");
  t.equal(
    setCookieHeader("id", "a;b", { maxAge: 10.7, domain: "example.com", path: "/app", secure: true, httpOnly: false, sameSite: "strict", priority: "high" }),
    "id=a%3Bb; Max-Age=10; Domain=example.com; Path=/app; Secure; Priority=High; SameSite=Strict",
    "the value is encoded, so a ';' cannot inject an attribute",
  );
  t.match(setCookieHeader("id", "1", { secure: true, partitioned: true }), /; Partitioned/);
  t.match(deleteCookieHeader("id"), /^id=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970/);
  t.match(setCookieHeader("id", "1", { maxAge: -5 }), /Max-Age=0/, "negative lifetimes expire now");
});

t.test("names that are not tokens and combinations browsers drop are refused", async (t) => {
  for (const name of ["", "a b", "a=b", "a;b", "a\nb", "ü"]) t.throws(() => setCookieHeader(name, "1"), TypeError, JSON.stringify(name));
  t.throws(() => setCookieHeader("id", "1", { sameSite: "none" }), /secure/);
  t.throws(() => setCookieHeader("id", "1", { partitioned: true }), /secure/);
});

t.test("signed values: verify, rotate keys, reject tampering and cross-cookie replay", async (t) => {
  const signed = signCookieValue("user", "ada.lovelace", [CURRENT]);
  t.equal(unsignCookieValue("user", signed, [CURRENT]), "ada.lovelace", "a value with dots survives");
  t.equal(unsignCookieValue("user", signed, [PREVIOUS, CURRENT]), "ada.lovelace", "accepted with any listed key");
  const old = signCookieValue("user", "ada", [PREVIOUS]);
  t.equal(unsignCookieValue("user", old, [CURRENT, PREVIOUS]), "ada", "a cookie signed before rotation still verifies");
  t.equal(unsignCookieValue("user", old, [CURRENT]), undefined, "not once the old key is dropped");
  t.equal(unsignCookieValue("admin", signed, [CURRENT]), undefined, "signed for another name");
  t.equal(unsignCookieValue("user", signed.replace("ada", "eve"), [CURRENT]), undefined, "value changed");
  t.equal(unsignCookieValue("user", signed.slice(0, -2), [CURRENT]), undefined, "signature truncated");
  t.equal(unsignCookieValue("user", "ada", [CURRENT]), undefined, "no signature");
  t.equal(unsignCookieValue("user", undefined, [CURRENT]), undefined, "no cookie");
  t.equal(unsignCookieValue("user", `ada.${"A".repeat(5000)}`, [CURRENT]), undefined, "an oversized signature");
  t.throws(() => signCookieValue("user", "x", ["short"]), /32 characters/);
  t.throws(() => signCookieValue("user", "x", []), /at least one/);
});
