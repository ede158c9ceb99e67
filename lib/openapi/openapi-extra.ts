/**
 * A route's `openapiExtra` (FastAPI's `openapi_extra`): fields merged into its generated
 * operation, for what the route's declarations cannot say (a body the handler reads itself,
 * vendor extensions `x-…`, extra response examples).
 *
 * @module
 */

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Merges `extra` into `operation`, recursively: objects present on both sides are merged key by
 * key, anything else in `extra` (a string, an array, a new key) replaces what was generated.
 * Nothing is shared with `extra`: its objects are copied, so one document never aliases another's.
 *
 * @example
 * mergeOpenApiExtra({ responses: { 200: { description: "OK" } } }, { responses: { 200: { description: "The token" } }, "x-internal": true });
 * // { responses: { 200: { description: "The token" } }, "x-internal": true }
 */
export function mergeOpenApiExtra<T extends object>(operation: T, extra: Readonly<Record<string, unknown>>): T {
  const target = operation as Record<string, unknown>;
  for (const [key, value] of Object.entries(extra)) {
    // Own data keys only: a `__proto__` key from JSON would otherwise replace the prototype.
    if (key === "__proto__") continue;
    const current = target[key];
    if (isPlainObject(value)) {
      target[key] = mergeOpenApiExtra(isPlainObject(current) ? { ...current } : {}, value);
    } else {
      target[key] = Array.isArray(value) ? structuredClone(value) : value;
    }
  }
  return operation;
}
