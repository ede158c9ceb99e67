/**
 * Comparing secrets without leaking them through timing.
 *
 * `a === b` stops at the first differing character, so response times tell an attacker how much
 * of a guessed key was right. {@link safeCompare} compares HMAC-SHA256 digests of both values
 * (under a random per-process key) with `crypto.timingSafeEqual`: the digests always have the same
 * length, so neither the contents nor the length of the secret shows in the timing (what
 * `timingSafeEqual` alone cannot do: it throws on different lengths, and an early length check
 * is itself a leak).
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

// Random per process: the digests mean nothing outside it and cannot be precomputed.
const KEY = randomBytes(32);

function digest(value: string | Uint8Array): Buffer {
  return createHmac("sha256", KEY).update(value).digest();
}

/**
 * True when `a` and `b` are the same bytes (strings as UTF-8), in time independent of where they
 * differ and of their lengths.
 *
 * @example
 * if (!safeCompare(deps.apiKey, process.env.API_KEY!)) throw apiKey.unauthorized();
 */
export function safeCompare(a: string | Uint8Array, b: string | Uint8Array): boolean {
  // Equal digests of different inputs would need an HMAC-SHA256 collision.
  return timingSafeEqual(digest(a), digest(b));
}
