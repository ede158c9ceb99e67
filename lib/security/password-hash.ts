/**
 * Password hashing with `node:crypto` scrypt (RFC 7914), no native add-on.
 *
 * A hash is stored as `scrypt$N$r$p$salt$hash` (salt and hash base64, no padding), so the cost
 * parameters travel with each hash: raising them later only affects new hashes, and
 * {@link needsRehash} says which stored ones to upgrade at the user's next login. The default cost
 * (N=2^15, r=8, p=1: 32 MiB, tens of milliseconds) is OWASP's scrypt minimum tier; raise it on
 * fast machines.
 *
 * {@link verifyPassword} compares in constant time, and refuses stored parameters outside sane
 * bounds, so a tampered or corrupted row cannot make a login allocate gigabytes.
 *
 * @module
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** scrypt cost parameters. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. Default 2^15. */
  N: number;
  /** Block size. Default 8. */
  r: number;
  /** Parallelization. Default 1. */
  p: number;
}

/** The default cost: OWASP's minimum recommendation for scrypt. */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });

const SALT_BYTES = 16;
const HASH_BYTES = 32;
// Bounds for parameters read back from storage (and accepted when hashing): at most 256 MiB of
// memory (128·N·r bytes) and 16 times the work of N=2^20, r=1.
const MAX_MEMORY = 256 * 1024 * 1024;
const MAX_WORK = 2 ** 24;
const MAX_P = 16;
const PREFIX = "scrypt";

function checkParams({ N, r, p }: ScryptParams): boolean {
  const integers = [N, r, p].every((x) => Number.isSafeInteger(x) && x >= 1);
  if (!integers || N < 2 || p > MAX_P || 128 * N * r > MAX_MEMORY || N * r * p > MAX_WORK) return false;
  return (N & (N - 1)) === 0; // a power of two (N ≤ 2^21 here, so the bit trick is exact)
}

function derive(password: string, salt: Buffer, length: number, { N, r, p }: ScryptParams): Promise<Buffer> {
  // Node refuses when 128*N*r exceeds maxmem (32 MiB by default, which N=2^15, r=8 just reaches).
  const options: ScryptOptions = { N, r, p, maxmem: 128 * N * r + 128 * r * p + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize("NFC"), salt, length, options, (error, key) => (error ? reject(error) : resolve(key))));
}

const b64 = (bytes: Buffer): string => bytes.toString("base64").replace(/=+$/, "");

/**
 * Hashes `password` with a fresh random salt.
 *
 * Passwords are NFC-normalized first, so the same password typed on two keyboards (composed or
 * decomposed accents) verifies.
 *
 * @example
 * const stored = await hashPassword("correct horse battery staple");
 * // "scrypt$32768$8$1$…$…"
 * @throws TypeError for cost parameters out of bounds
 */
export async function hashPassword(password: string, params: Partial<ScryptParams> = {}): Promise<string> {
  const full: ScryptParams = { ...DEFAULT_SCRYPT_PARAMS, ...params };
  if (!checkParams(full)) throw new TypeError(`scrypt parameters out of bounds: ${JSON.stringify(full)}`);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, HASH_BYTES, full);
  return [PREFIX, full.N, full.r, full.p, b64(salt), b64(hash)].join("$");
}

interface Parsed {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

const B64 = /^[A-Za-z0-9+/]+$/;

function parse(stored: string): Parsed | undefined {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== PREFIX) return undefined;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  if (![n, r, p].every((x) => /^[1-9][0-9]{0,7}$/.test(x))) return undefined;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!checkParams(params) || !B64.test(salt) || !B64.test(hash)) return undefined;
  const saltBytes = Buffer.from(salt, "base64");
  const hashBytes = Buffer.from(hash, "base64");
  if (saltBytes.length < 8 || hashBytes.length < 16 || hashBytes.length > 128) return undefined;
  return { params, salt: saltBytes, hash: hashBytes };
}

/**
 * True when `password` matches `stored` (made by {@link hashPassword}); false for a wrong password
 * and for a stored value that is not a valid hash. The comparison is constant-time.
 *
 * To keep "no such user" as slow as "wrong password" (so response times do not reveal which user
 * names exist), verify against a dummy hash when the user is not found.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (parsed === undefined) return false;
  const candidate = await derive(password, parsed.salt, parsed.hash.length, parsed.params);
  return timingSafeEqual(candidate, parsed.hash);
}

/** True when `stored` was hashed with other parameters than `params` (or is not a valid hash). */
export function needsRehash(stored: string, params: Partial<ScryptParams> = {}): boolean {
  const parsed = parse(stored);
  if (parsed === undefined) return true;
  const want = { ...DEFAULT_SCRYPT_PARAMS, ...params };
  return parsed.params.N !== want.N || parsed.params.r !== want.r || parsed.params.p !== want.p || parsed.hash.length !== HASH_BYTES;
}
