/**
 * Headers, cookies and a status a handler sets for its plain return value (FastAPI's
 * `response: Response` parameter): `ctx.response.setCookie("seen", "1")`, then `return { ok: true }`.
 *
 * The parts apply to whatever the route sends on success:
 * - a plain value: `status` (when set) replaces the route's status, and the headers are added
 *   after the serializer's `content-type` and `content-length` (a `content-type` set here wins);
 * - a returned response object: the headers are added to its own (the status stays the
 *   response's: it was chosen explicitly). FastAPI drops them in that case; adding them is what
 *   a dependency that sets a cookie expects when the handler answers with a redirect.
 * Error responses (exceptions, 422, 500) do not get them, as in FastAPI.
 *
 * @module
 */
import type { ConnectionScope, HttpScope } from "../adapter/events.js";
import { ResponseHeaders } from "./response-headers.js";

const KEY = "laminar.responseParts";

/** The status and headers a plain return value is sent with. */
export class ResponseParts extends ResponseHeaders {
  /** Replaces the route's success status for a plain value; undefined keeps it. */
  status: number | undefined = undefined;
}

/**
 * The response parts of the request `scope` belongs to, created on first use (for dependencies,
 * which receive the scope). Throws a `TypeError` for a WebSocket scope.
 */
export function responseParts(scope: ConnectionScope): ResponseParts {
  if (scope.type !== "http") throw new TypeError("response parts belong to HTTP requests");
  const extensions = (scope.extensions ??= {});
  let parts = extensions[KEY] as ResponseParts | undefined;
  if (parts === undefined) extensions[KEY] = parts = new ResponseParts();
  return parts;
}

/** The request's response parts when anything created them, else undefined (no allocation). */
export function responsePartsOf(scope: HttpScope): ResponseParts | undefined {
  return scope.extensions?.[KEY] as ResponseParts | undefined;
}
