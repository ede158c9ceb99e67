/**
 * The bookstore's authentication: OAuth2 password flow with bearer tokens.
 *
 * `POST /token` takes the password form (what Swagger UI's Authorize dialog posts) and answers an
 * access token: an HS256 JWT with `sub`, `scopes` and `exp`, signed with `BOOKSTORE_TOKEN_KEY`
 * (or a random per-process key, with a warning: tokens then die with the process and are not
 * shared between workers). Writes depend on {@link BookstoreAuth.writer}, which requires the
 * `books:write` scope; reads stay open.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { Type } from "@sinclair/typebox";
import type { App } from "../../lib/app.js";
import { HttpException } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";
import { oauth2PasswordBearer } from "../../lib/security/oauth2-password-bearer.js";
import { requireScopes } from "../../lib/security/require-scopes.js";
import { PASSWORD_FORM_REQUEST_BODY, readPasswordForm } from "../../lib/security/password-form.js";
import { signJwt, verifyJwt } from "../../lib/security/jwt-hs256.js";
import type { SecurityDependency } from "../../lib/security/security-dependency.js";
import { UserRepository } from "./store/contracts.js";
import { authenticate } from "./users.js";

/** The scopes the bookstore grants. */
export const SCOPES = { "books:write": "Add authors and books, delete books" } as const;

/** Who a valid token stands for. */
export interface Principal {
  username: string;
  scopes: string[];
}

/** What {@link POST /token} answers (RFC 6749 §5.1). */
export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal("bearer"),
  expires_in: Type.Integer(),
  scope: Type.String(),
});

/** Options of {@link bookstoreAuth}. */
export interface AuthOptions {
  /** The signing key (at least 32 bytes); default `BOOKSTORE_TOKEN_KEY`, else random per process. */
  tokenKey?: string | Uint8Array;
  /** Token lifetime in seconds; default 30 minutes. */
  tokenTtl?: number;
  /** The clock, ms since the epoch (tests move it to expire tokens). */
  now?: () => number;
  logger: Logger;
}

/** The bookstore's security pieces. */
export interface BookstoreAuth {
  /** Resolves the principal of a token with `books:write`. */
  readonly writer: SecurityDependency<Principal>;
  /** Adds `POST /token` to `app`. */
  addTokenRoute(app: App): void;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** Builds the scheme, the scoped dependency and the token route around one signing key. */
export function bookstoreAuth(options: AuthOptions): BookstoreAuth {
  let key = options.tokenKey ?? process.env.BOOKSTORE_TOKEN_KEY;
  if (key === undefined || key === "") {
    options.logger.warn({}, "BOOKSTORE_TOKEN_KEY is not set: signing tokens with a random key (they end with this process and other workers refuse them)");
    key = randomBytes(32);
  }
  const secret = key;
  const now = options.now ?? Date.now;
  const ttl = options.tokenTtl ?? 30 * 60;
  // Fails at startup for a key shorter than 32 bytes, not at the first login.
  signJwt({}, secret, { expiresIn: 1, now });

  const oauth2 = oauth2PasswordBearer({ tokenUrl: "token", scopes: SCOPES, description: "Log in with a bookstore user" });
  const writer = requireScopes(oauth2, ["books:write"], (token): Principal | undefined => {
    const claims = verifyJwt(token, secret, { now });
    if (claims === undefined || typeof claims.sub !== "string" || !isStringArray(claims.scopes)) return undefined;
    return { username: claims.sub, scopes: claims.scopes };
  });

  function addTokenRoute(app: App): void {
    app.post(
      "/token",
      {
        deps: { users: UserRepository },
        response: { 200: TokenResponse },
        // The handler reads the form itself (no 422 may echo a password); the document still shows it.
        openapiExtra: { requestBody: PASSWORD_FORM_REQUEST_BODY },
        tags: ["auth"],
        summary: "Log in: the OAuth2 password grant (an application/x-www-form-urlencoded body)",
      },
      async (ctx) => {
        const form = await readPasswordForm(ctx);
        const user = await authenticate(ctx.deps.users, form.username, form.password);
        if (user === undefined) throw new HttpException(400, "Incorrect username or password");
        // Asked-for scopes the user does not hold are left out (RFC 6749 §3.3 lets the server
        // grant less); asking for none grants all of the user's.
        const scopes = form.scopes.length === 0 ? user.scopes : form.scopes.filter((scope) => user.scopes.includes(scope));
        const accessToken = signJwt({ sub: user.username, scopes }, secret, { expiresIn: ttl, now });
        // RFC 6749 §5.1: token responses must not be cached.
        ctx.response.setHeader("cache-control", "no-store");
        return { access_token: accessToken, token_type: "bearer" as const, expires_in: ttl, scope: scopes.join(" ") };
      },
    );
  }

  return { writer, addTokenRoute };
}
