/**
 * The `Vary` response header, shared by the middleware whose answer depends on a request header
 * (CORS on `Origin`, compression on `Accept-Encoding`).
 *
 * @module
 */
import type { HeaderList } from "../adapter/events.js";

/**
 * Adds `name` (lower-case) to the `vary` header of `headers` (a list the caller owns: it is
 * changed in place, though no pair in it is): merged into an existing
 * `vary` line (RFC 9110 §12.5.5: one comma-separated list, field names case-insensitive), left
 * alone when it is already listed or the existing value is `*` (which already says "varies on
 * everything"), appended as a new line when there is none.
 */
export function addVary(headers: HeaderList, name: string): void {
  let first = -1;
  for (let i = 0; i < headers.length; i++) {
    const entry = headers[i]!;
    if (entry[0] !== "vary") continue;
    if (first === -1) first = i;
    for (const token of entry[1].split(",")) {
      const field = token.trim().toLowerCase();
      if (field === name || field === "*") return;
    }
  }
  if (first === -1) {
    headers.push(["vary", name]);
    return;
  }
  // Merge into the first line rather than adding another (the lines are one list anyway).
  // A new pair, not an edited one: the pairs may be shared with the app's constant header lists.
  const value = headers[first]![1];
  headers[first] = ["vary", value.trim() === "" ? name : `${value}, ${name}`];
}
