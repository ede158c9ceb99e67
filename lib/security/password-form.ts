/**
 * The OAuth2 password grant's token request (RFC 6749 §4.3.2; FastAPI's
 * `OAuth2PasswordRequestForm`): an `application/x-www-form-urlencoded` body with `grant_type`,
 * `username`, `password`, a space-separated `scope`, and the optional `client_id` and
 * `client_secret` (RFC 6749 §2.3.1).
 *
 * Read by the token route's handler from its raw body channel (`ctx.receive`): dependencies do not
 * see the body, and laminar has no form-body route option yet. When one lands, this stays the
 * place that knows the grant's fields.
 *
 * Problems are answered like any other input error, 422 with every issue at `["body", field]`,
 * and the values of `password` and `client_secret` are never echoed in them. A parameter sent
 * twice is an error (RFC 6749 §3.2: "MUST NOT be included more than once"), as is a `grant_type`
 * other than `password`; it may be left out, as FastAPI's non-strict form allows.
 *
 * @module
 */
import type { ConnectionScope, Receive } from "../../layers/adapter/events.js";
import { readBody } from "../../layers/validator/request-inputs.js";
import { RequestValidationError, UnsupportedMediaTypeError, type ValidationIssue } from "../errors.js";
import { isScopeToken, splitScopes } from "./scope-token.js";

/** A parsed password-grant token request. */
export interface PasswordRequestForm {
  readonly grantType: "password" | undefined;
  readonly username: string;
  readonly password: string;
  /** The requested scopes, split at spaces (empty when none were asked for). */
  readonly scopes: readonly string[];
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
}

/** Options of {@link readPasswordForm}. */
export interface PasswordFormOptions {
  /** Largest accepted body, in bytes; default 16 KiB (a token request is a few hundred). */
  maxBytes?: number;
}

const FORM_TYPE = "application/x-www-form-urlencoded";
const SECRET_FIELDS = new Set(["password", "client_secret"]);
const FIELDS = ["grant_type", "username", "password", "scope", "client_id", "client_secret"] as const;

function contentTypeOf(scope: ConnectionScope): string | undefined {
  for (const [name, value] of scope.headers) if (name === "content-type") return value;
  return undefined;
}

/** True when `contentType` is the urlencoded form type (parameters such as a charset allowed). */
function isFormType(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(";")[0]!.trim().toLowerCase() === FORM_TYPE;
}

/**
 * Parses a urlencoded password-grant body.
 *
 * @throws RequestValidationError (422) listing every missing, repeated or invalid field
 */
export function parsePasswordForm(body: string | Uint8Array): PasswordRequestForm {
  const text = typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  const params = new URLSearchParams(text);
  const issues: ValidationIssue[] = [];
  const values = new Map<string, string>();
  for (const field of FIELDS) {
    const all = params.getAll(field);
    if (all.length > 1) {
      const issue: ValidationIssue = { loc: ["body", field], msg: "Parameter must not be repeated", type: "repeated_parameter" };
      if (!SECRET_FIELDS.has(field)) issue.input = all;
      issues.push(issue);
    } else if (all.length === 1) {
      values.set(field, all[0]!);
    }
  }
  for (const field of ["username", "password"] as const) {
    if (!params.has(field)) issues.push({ loc: ["body", field], msg: "Field required", type: "missing", input: null });
  }
  const grantType = values.get("grant_type");
  if (grantType !== undefined && grantType !== "password") {
    issues.push({ loc: ["body", "grant_type"], msg: "String should match pattern '^password$'", type: "string_pattern_mismatch", input: grantType, ctx: { pattern: "^password$" } });
  }
  const scopes = splitScopes(values.get("scope") ?? "");
  const badScope = scopes.find((scope) => !isScopeToken(scope));
  if (badScope !== undefined) issues.push({ loc: ["body", "scope"], msg: "Scopes must be visible ASCII without '\"' or '\\'", type: "invalid_scope", input: badScope });
  if (issues.length > 0) throw new RequestValidationError(issues);
  return {
    grantType: grantType as "password" | undefined,
    username: values.get("username")!,
    password: values.get("password")!,
    scopes,
    clientId: values.get("client_id"),
    clientSecret: values.get("client_secret"),
  };
}

/**
 * The OpenAPI request body of a token route that reads {@link readPasswordForm}: the form's fields
 * as FastAPI's `OAuth2PasswordRequestForm` documents them. The route parses the body itself (so
 * that no 422 ever echoes a password), so it passes this as `openapiExtra` for Swagger UI's
 * "Try it out" to show the fields.
 */
export const PASSWORD_FORM_REQUEST_BODY = Object.freeze({
  required: true,
  content: {
    "application/x-www-form-urlencoded": {
      schema: {
        type: "object",
        title: "PasswordRequestForm",
        required: ["username", "password"],
        properties: {
          grant_type: { type: "string", const: "password", description: "Must be `password` when sent" },
          username: { type: "string" },
          password: { type: "string", format: "password" },
          scope: { type: "string", default: "", description: "Space-separated scopes; none asks for all the user holds" },
          client_id: { type: "string" },
          client_secret: { type: "string", format: "password" },
        },
      },
    },
  },
});

/**
 * Reads and parses the token request of a handler's request.
 *
 * @example
 * app.post("/token", { openapiExtra: { requestBody: PASSWORD_FORM_REQUEST_BODY } }, async (ctx) => {
 *   const form = await readPasswordForm(ctx);
 *   const user = await authenticate(form.username, form.password);
 *   if (!user) throw new HttpException(400, "Incorrect username or password");
 *   return { access_token: issueToken(user, form.scopes), token_type: "bearer" };
 * });
 * @throws UnsupportedMediaTypeError (415) when the body is not urlencoded
 * @throws BodyTooLargeError (413) past `maxBytes`
 * @throws RequestValidationError (422) for missing, repeated or invalid fields
 */
export async function readPasswordForm(ctx: { scope: ConnectionScope; receive: Receive }, options: PasswordFormOptions = {}): Promise<PasswordRequestForm> {
  const contentType = contentTypeOf(ctx.scope);
  if (!isFormType(contentType)) throw new UnsupportedMediaTypeError(contentType ?? "(none)", FORM_TYPE);
  return parsePasswordForm(await readBody(ctx.receive, options.maxBytes ?? 16 * 1024));
}
