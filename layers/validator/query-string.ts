/**
 * Query-string parsing for the validator's `query` input.
 *
 * Built on node's `querystring` (WHATWG `application/x-www-form-urlencoded` rules as Starlette's
 * `parse_qsl(keep_blank_values=True)` applies them): `&`-separated pairs, `+` is a space, a key
 * without `=` has the value `""`, a repeated key collects its values into an array in arrival order.
 *
 * @module
 */
import { parse } from "node:querystring";

/**
 * At most this many `key=value` pairs are read; the rest of the string is ignored. Node's default,
 * kept on purpose: `?a=1&a=2&…` repeated a million times must not cost a million-element array
 * per request (the server's URL length limit bounds it too, but not every server sets one).
 */
export const MAX_QUERY_PAIRS = 1000;

const OPTIONS = { maxKeys: MAX_QUERY_PAIRS, decodeURIComponent: decodeOrKeep };

/**
 * Parses a raw query string (no leading `?`).
 *
 * The result has no prototype (`query.toString` is undefined unless sent) and never a
 * `__proto__` key, so it is safe to spread or `Object.assign` from. Malformed percent escapes
 * (`%zz`, a lone `%E9`) never throw: the component is kept as it arrived (`+` still decoded).
 *
 * @example
 * parseQuery("tag=a&tag=b&q=two+words&limit=5"); // { tag: ["a", "b"], q: "two words", limit: "5" }
 */
export function parseQuery(queryString: string): Record<string, string | string[]> {
  const query = parse(queryString, "&", "=", OPTIONS) as Record<string, string | string[]>;
  // A null-prototype object stores `__proto__` as an ordinary key; drop it anyway so that user
  // code copying the query into a normal object cannot have its prototype replaced.
  if (Object.prototype.hasOwnProperty.call(query, "__proto__")) delete query.__proto__;
  return query;
}

function decodeOrKeep(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}
