/**
 * Wording helpers for validation issues, shaped after pydantic v2's messages so that a FastAPI
 * client's error handling (and its users' eyes) see what they expect: `'a', 'b' or 'c'`,
 * `1 character` / `2 characters`.
 *
 * @module
 */

/** Python-repr-like rendering of a JSON value inside a message: strings in single quotes. */
export function repr(value: unknown): string {
  if (typeof value === "string") return `'${value}'`;
  if (value === null) return "null";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Joins alternatives the way pydantic does: `'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`. */
export function joinAlternatives(parts: readonly string[]): string {
  if (parts.length <= 1) return parts[0] ?? "";
  return `${parts.slice(0, -1).join(", ")} or ${parts[parts.length - 1]}`;
}

/** `1 item`, `2 items`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** How a JSON Schema type reads after "Input should be …". */
export function describeType(type: string): string {
  switch (type) {
    case "integer":
      return "a valid integer";
    case "number":
      return "a valid number";
    case "string":
      return "a valid string";
    case "boolean":
      return "a valid boolean";
    case "array":
      return "a valid list";
    case "object":
      return "a valid dictionary";
    case "null":
      return "null";
    default:
      return `of type ${type}`;
  }
}
