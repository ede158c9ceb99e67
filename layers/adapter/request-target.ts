/**
 * The request target (RFC 9112 §3.2) split into what a scope holds: the raw path, the query string
 * and the percent-decoded path.
 *
 * @module
 */

/** A target split for a scope; `path` is null when a percent-escape is malformed (answer 400). */
export interface SplitTarget {
  rawPath: string;
  queryString: string;
  path: string | null;
}

/**
 * Splits `url` at the first `?`, reduces an absolute-form target (`http://host/p?q`) to its path,
 * and decodes the path (`%2F` becomes `/`; `rawPath` keeps it).
 */
export function splitTarget(url: string): SplitTarget {
  const q = url.indexOf("?");
  let rawPath = q === -1 ? url : url.slice(0, q);
  const queryString = q === -1 ? "" : url.slice(q + 1);
  if (rawPath.charCodeAt(0) !== 47 /* / */ && rawPath !== "*") rawPath = originFormPath(rawPath);
  return { rawPath, queryString, path: decodePath(rawPath) };
}

/** `decodeURIComponent(rawPath)`, or null for a malformed escape; no work when there is no `%`. */
export function decodePath(rawPath: string): string | null {
  if (rawPath.indexOf("%") === -1) return rawPath;
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return null;
  }
}

/** The path of an absolute-form target (RFC 9112 §3.2.2: `GET http://host/p?q HTTP/1.1`). */
export function originFormPath(target: string): string {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*/.exec(target);
  if (m === null) return target;
  const rest = target.slice(m[0].length);
  return rest === "" ? "/" : rest;
}
