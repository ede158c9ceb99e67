/**
 * scrypt password hashes: the stored format, verification (right, wrong, normalized), salts,
 * changed parameters and needsRehash, and refusal of tampered or absurd stored values.
 * Cheap parameters keep the file fast; one hash uses the defaults.
 */
import t from "tap";
import { hashPassword, verifyPassword, needsRehash, DEFAULT_SCRYPT_PARAMS } from "../../../lib/security/password-hash.js";

const CHEAP = { N: 1024, r: 8, p: 1 };

t.test("format, verification, salt", async (t) => {
  const stored = await hashPassword("correct horse", CHEAP);
  t.match(stored, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  t.equal(await verifyPassword("correct horse", stored), true);
  t.equal(await verifyPassword("correct horse ", stored), false);
  t.equal(await verifyPassword("Correct horse", stored), false);
  t.equal(await verifyPassword("", stored), false);
  t.not(await hashPassword("correct horse", CHEAP), stored, "a fresh salt each time");
});

t.test("the default parameters are stored and used", async (t) => {
  const stored = await hashPassword("pw");
  t.ok(stored.startsWith(`scrypt$${DEFAULT_SCRYPT_PARAMS.N}$${DEFAULT_SCRYPT_PARAMS.r}$${DEFAULT_SCRYPT_PARAMS.p}$`));
  t.equal(await verifyPassword("pw", stored), true);
  t.equal(needsRehash(stored), false);
  t.equal(needsRehash(stored, { N: 2 ** 16 }), true, "raised cost: upgrade at next login");
});

t.test("parameters travel with the hash: an older cost still verifies", async (t) => {
  const old = await hashPassword("pw", { N: 512, r: 4, p: 2 });
  t.equal(await verifyPassword("pw", old), true);
  t.equal(needsRehash(old), true);
});

t.test("unicode passwords are NFC-normalized", async (t) => {
  const stored = await hashPassword("caf\u00e9", CHEAP);
  t.equal(await verifyPassword("cafe\u0301", stored), true, "decomposed é verifies");
});

t.test("tampered, corrupted or absurd stored values are false, never a throw or a huge allocation", async (t) => {
  const stored = await hashPassword("pw", CHEAP);
  const [, n, r, p, salt, hash] = stored.split("$") as [string, string, string, string, string, string];
  const flipped = hash.slice(0, -2) + (hash.at(-2) === "A" ? "B" : "A") + hash.at(-1);
  for (const bad of [
    "",
    "plaintext-password",
    `bcrypt$${n}$${r}$${p}$${salt}$${hash}`,
    `scrypt$${n}$${r}$${p}$${salt}$${flipped}`,
    `scrypt$${n}$${r}$${p}$${salt}`,
    `scrypt$1000$${r}$${p}$${salt}$${hash}`, // N not a power of two
    `scrypt$${2 ** 30}$${r}$${p}$${salt}$${hash}`, // 128 GiB
    `scrypt$${n}$999$${p}$${salt}$${hash}`,
    `scrypt$${n}$${r}$0$${salt}$${hash}`,
    `scrypt$0x400$${r}$${p}$${salt}$${hash}`,
    `scrypt$${n}$${r}$${p}$${salt}$${hash}$extra`,
    `scrypt$${n}$${r}$${p}$!!$${hash}`,
    `scrypt$${n}$${r}$${p}$${salt}$QUFB`, // a 3-byte hash
  ]) {
    t.equal(await verifyPassword("pw", bad), false, bad.slice(0, 40));
    t.equal(needsRehash(bad), true);
  }
  await t.rejects(hashPassword("pw", { N: 1000 }), TypeError);
  await t.rejects(hashPassword("pw", { N: 2 ** 22 }), TypeError);
});
