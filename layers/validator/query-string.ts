/**
 * Query-string parsing for the validator's `query` input.
 *
 * WHATWG `application/x-www-form-urlencoded` rules as Starlette's `parse_qsl(keep_blank_values=True)`
 * applies them: `&`-separated pairs, `+` is a space, a key without `=` has the value `""`, empty
 * pairs are skipped, a repeated key collects its values into an array in arrival order. The
 * results are node's `querystring.parse`'s (a test compares the two on random strings), except in
 * a component with a malformed escape, where node turns `+` into `%20` and this, like Python, into
 * a space.
 *
 * Written by hand rather than calling `querystring.parse` because this is the hot path of every
 * route with a query schema: `querystring.parse` with a custom decoder (needed so that a malformed
 * escape is kept instead of thrown) took ~600 ns for `q=hello` on the bench machine; this takes
 * ~100 ns, and decodes only components that hold a `%` or `+`.
 *
 * @module
 */

/**
 * At most this many `&`-separated pairs are read (empty ones count); the rest of the string is
 * ignored. Node's default, kept on purpose: `?a=1&a=2&…` repeated a million times must not cost a
 * million-element array per request (the server's URL length limit bounds it too, but not every
 * server sets one).
 */
export const MAX_QUERY_PAIRS = 1000;

/**
 * The prototype of every parsed query: empty, frozen, itself without a prototype, so a query
 * inherits nothing. Not `Object.create(null)` for the query itself: V8 keeps such objects in
 * dictionary mode, which made creating one and validating it with ajv ~2× slower (35 → 15 ns to
 * create and fill, 65 → 35 ns with the check, measured in-process).
 */
const INHERITS_NOTHING: object = Object.freeze(Object.create(null));

/**
 * Parses a raw query string (no leading `?`).
 *
 * The result inherits nothing (`query.toString` is undefined unless sent) and never has a
 * `__proto__` key, so it is safe to spread or `Object.assign` from. Malformed percent escapes
 * (`%zz`, a lone `%E9`) never throw: the component is kept as it arrived (`+` still decoded).
 *
 * @example
 * parseQuery("tag=a&tag=b&q=two+words&limit=5"); // { tag: ["a", "b"], q: "two words", limit: "5" }
 */
export function parseQuery(queryString: string): Record<string, string | string[]> {
  const query = Object.create(INHERITS_NOTHING) as Record<string, string | string[]>;
  const length = queryString.length;
  let start = 0;
  for (let pairs = 0; start < length && pairs < MAX_QUERY_PAIRS; pairs++) {
    let end = queryString.indexOf("&", start);
    if (end === -1) end = length;
    if (end > start) {
      const eq = queryString.indexOf("=", start);
      const split = eq !== -1 && eq < end;
      const key = decodeComponent(queryString.slice(start, split ? eq : end));
      const value = split ? decodeComponent(queryString.slice(eq + 1, end)) : "";
      // With no `__proto__` setter inherited, `__proto__` would be an ordinary key; it is dropped anyway
      // so that user code copying the query into a normal object cannot have its prototype replaced.
      if (key !== "__proto__") add(query, key, value);
    }
    start = end + 1;
  }
  return query;
}

function add(query: Record<string, string | string[]>, key: string, value: string): void {
  const earlier = query[key];
  if (earlier === undefined) query[key] = value;
  else if (typeof earlier === "string") query[key] = [earlier, value];
  else earlier.push(value);
}

/** `+` as a space, then percent-decoding; a malformed escape keeps the component as it is. */
function decodeComponent(component: string): string {
  const plus = component.indexOf("+") !== -1;
  if (!plus && component.indexOf("%") === -1) return component;
  const spaced = plus ? component.replaceAll("+", " ") : component;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
