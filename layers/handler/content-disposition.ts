/**
 * The `Content-Disposition` header of a download: RFC 6266, with RFC 8187 (ex-5987) encoding for
 * names that are not plain ASCII.
 *
 * @module
 */

/** Whether the browser should show the file (`inline`) or save it (`attachment`). */
export type DispositionType = "attachment" | "inline";

// RFC 8187 §3.2.1 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~".
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/**
 * Builds the header value. A printable-ASCII name goes in a quoted string with `\` and `"`
 * escaped (RFC 9110 §5.6.4). Any other name gets an ASCII fallback (`filename="…"`, other
 * characters as `_`) followed by `filename*=UTF-8''…` percent-encoded, which every current browser
 * prefers (RFC 6266 §4.3 recommends sending both, the `*` form last). Control characters (CR, LF,
 * NUL, …) never reach the header: they become `_` in both forms, so a file name cannot inject a
 * header line.
 *
 * @example
 * contentDisposition("attachment", "résumé.pdf");
 * // attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf
 */
export function contentDisposition(type: DispositionType, filename?: string): string {
  if (filename === undefined) return type;
  // eslint-disable-next-line no-control-regex
  const clean = filename.replace(/[\u0000-\u001f\u007f]/g, "_");
  const ascii = clean.replace(/[^\u0020-\u007e]/g, "_");
  const quoted = `"${ascii.replace(/[\\"]/g, "\\$&")}"`;
  if (ascii === clean) return `${type}; filename=${quoted}`;
  return `${type}; filename=${quoted}; filename*=UTF-8''${encodeExtValue(clean)}`;
}

/** RFC 8187 value-chars: attr-chars as they are, every other UTF-8 byte as `%XX`. */
function encodeExtValue(value: string): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
