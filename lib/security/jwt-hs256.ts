/**
 * JSON Web Tokens signed with HMAC-SHA256 (RFC 7519 with RFC 7515's compact form, `alg: HS256`)
 * and nothing else: enough for an app that issues and checks its own access tokens, in 100 lines
 * of `node:crypto` instead of a dependency.
 *
 * Verification refuses every token whose header is not exactly HS256 (no `alg: none`, no
 * algorithm switching, RFC 8725 §3.1), compares signatures in constant time, requires `exp` and
 * checks it against an injectable clock, and checks `nbf` when present. What it leaves out:
 * other algorithms, `kid` key rotation, `aud`/`iss` checks (compare the claims yourself).
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** The registered claims laminar reads, plus any others. */
export interface JwtClaims {
  /** Subject: who the token stands for. */
  sub?: string;
  /** Expiry, seconds since the epoch. */
  exp?: number;
  /** Not before, seconds since the epoch. */
  nbf?: number;
  /** Issued at, seconds since the epoch. */
  iat?: number;
  [claim: string]: unknown;
}

/** Options of {@link signJwt}. */
export interface SignJwtOptions {
  /** Lifetime in seconds; sets `exp` (and `iat`). Required unless the claims carry `exp`. */
  expiresIn?: number;
  /** The clock, ms since the epoch; default `Date.now`. */
  now?: () => number;
}

/** Options of {@link verifyJwt}. */
export interface VerifyJwtOptions {
  /** The clock, ms since the epoch; default `Date.now`. */
  now?: () => number;
  /** Seconds of clock skew tolerated on `exp` and `nbf`; default 0. */
  leeway?: number;
}

const HEADER = base64url(Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })));
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const MIN_KEY_BYTES = 32;

function base64url(bytes: Buffer): string {
  return bytes.toString("base64url");
}

function keyBytes(key: string | Uint8Array): Buffer {
  const bytes = typeof key === "string" ? Buffer.from(key, "utf8") : Buffer.from(key);
  // RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash output.
  if (bytes.length < MIN_KEY_BYTES) throw new TypeError(`an HS256 key needs at least ${MIN_KEY_BYTES} bytes, got ${bytes.length}`);
  return bytes;
}

function sign(input: string, key: Buffer): Buffer {
  return createHmac("sha256", key).update(input).digest();
}

/**
 * Signs `claims` into a compact JWT (`header.payload.signature`, base64url).
 *
 * @example
 * const token = signJwt({ sub: "alice", scopes: ["books:write"] }, key, { expiresIn: 1800 });
 * @throws TypeError for a key shorter than 32 bytes, or no expiry
 */
export function signJwt(claims: JwtClaims, key: string | Uint8Array, options: SignJwtOptions = {}): string {
  const secret = keyBytes(key);
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  const payload: JwtClaims = { ...claims };
  if (options.expiresIn !== undefined) {
    payload.iat ??= nowSeconds;
    payload.exp = nowSeconds + options.expiresIn;
  }
  if (typeof payload.exp !== "number") throw new TypeError("a token needs an expiry: pass expiresIn or an exp claim");
  const input = `${HEADER}.${base64url(Buffer.from(JSON.stringify(payload)))}`;
  return `${input}.${base64url(sign(input, secret))}`;
}

/**
 * The claims of `token` when it is an HS256 JWT signed with `key`, unexpired and already valid;
 * otherwise undefined (which one of those failed is not said: the caller answers 401 either way,
 * and a reason would help an attacker more than a client).
 */
export function verifyJwt(token: string, key: string | Uint8Array, options: VerifyJwtOptions = {}): JwtClaims | undefined {
  const secret = keyBytes(key);
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((part) => SEGMENT.test(part))) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  // The header must be byte-for-byte ours: this refuses alg "none", RS256/HS256 confusion and `crit`.
  if (header !== HEADER) return undefined;
  const expected = sign(`${header}.${payload}`, secret);
  const given = Buffer.from(signature, "base64url");
  // Re-encoding refuses non-canonical spellings of a valid signature (ignored trailing bits).
  if (given.length !== expected.length || base64url(given) !== signature || !timingSafeEqual(given, expected)) return undefined;

  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return undefined;
  const { exp, nbf } = claims as JwtClaims;
  const now = (options.now ?? Date.now)() / 1000;
  const leeway = options.leeway ?? 0;
  if (typeof exp !== "number" || !Number.isFinite(exp) || now >= exp + leeway) return undefined;
  if (nbf !== undefined && (typeof nbf !== "number" || now < nbf - leeway)) return undefined;
  return claims as JwtClaims;
}
