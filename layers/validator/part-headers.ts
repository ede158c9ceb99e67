/**
 * The header block of one `multipart/form-data` part (RFC 7578 §4): its fields, and the
 * `Content-Disposition: form-data; name="…"; filename="…"` that names the part.
 *
 * Header bytes are decoded as UTF-8: the HTML standard's multipart/form-data encoding writes
 * field names and file names in UTF-8, raw (with `"` as `%22`, CR and LF as `%0D`/`%0A`, which are
 * left as they arrived). An RFC 8187 `filename*=UTF-8''…` parameter wins over `filename`.
 *
 * @module
 */
import { formTooLarge, malformedForm } from "./form-errors.js";

// RFC 9110 §5.6.2 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Control characters other than HT have no place in a field value (RFC 9110 §5.5).
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Parses a header block (the lines between the boundary line and the blank line, without the
 * final CRLF). Names are lower-cased; a repeated field's values are joined with `, `.
 *
 * @throws HttpException 413 past `maxPairs` fields; 400 for a line that is not `name: value`.
 */
export function parsePartHeaders(block: Buffer, maxPairs: number): Record<string, string> {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  if (block.length === 0) return headers;
  const lines = block.toString("utf8").split("\r\n");
  let count = 0;
  let last: string | undefined;
  for (const line of lines) {
    if (line.length === 0) throw malformedForm("Malformed multipart part header: empty line");
    if ((line[0] === " " || line[0] === "\t") && last !== undefined) {
      // obs-fold (RFC 9112 §5.2): a continuation of the previous value.
      headers[last] = `${headers[last]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon <= 0 ? "" : line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) throw malformedForm("Malformed multipart part header: expected `name: value`");
    const value = line.slice(colon + 1).trim();
    if (BAD_VALUE.test(value)) throw malformedForm(`Malformed multipart part header: control character in ${name}`);
    if (++count > maxPairs) throw formTooLarge(`A multipart part has more than ${maxPairs} headers (maxPartHeaderPairs)`);
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    last = name;
  }
  return headers;
}

/** A parsed `Content-Disposition`: its type, lower-cased, and its parameters by lower-cased name. */
export interface Disposition {
  type: string;
  params: Record<string, string>;
}

/**
 * Parses a `Content-Disposition` value (RFC 6266 §4.1 syntax, as RFC 7578 uses it). Quoted
 * strings may escape `"` and `\` with a backslash; any other backslash is kept (old browsers sent
 * Windows paths unescaped). Returns undefined when the value does not parse.
 */
export function parseDisposition(value: string): Disposition | undefined {
  let i = value.indexOf(";");
  const type = (i === -1 ? value : value.slice(0, i)).trim().toLowerCase();
  if (!TOKEN.test(type)) return undefined;
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  if (i === -1) return { type, params };
  const length = value.length;
  while (i < length) {
    i++; // past ";"
    while (i < length && (value[i] === " " || value[i] === "\t")) i++;
    if (i === length) break; // a trailing ";"
    const eq = value.indexOf("=", i);
    if (eq === -1) return undefined;
    const name = value.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(name)) return undefined;
    i = eq + 1;
    while (i < length && (value[i] === " " || value[i] === "\t")) i++;
    let paramValue = "";
    if (value[i] === '"') {
      i++;
      let closed = false;
      while (i < length) {
        const c = value[i]!;
        if (c === "\\" && (value[i + 1] === '"' || value[i + 1] === "\\")) {
          paramValue += value[i + 1];
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          paramValue += c;
          i++;
        }
      }
      if (!closed) return undefined;
      while (i < length && (value[i] === " " || value[i] === "\t")) i++;
      if (i < length && value[i] !== ";") return undefined;
    } else {
      const end = value.indexOf(";", i);
      paramValue = (end === -1 ? value.slice(i) : value.slice(i, end)).trim();
      i = end === -1 ? length : end;
    }
    params[name] = paramValue;
  }
  const extended = params["filename*"];
  if (extended !== undefined) {
    const decoded = decodeExtValue(extended);
    if (decoded !== undefined) params.filename = decoded;
  }
  return { type, params };
}

/** RFC 8187 §3.2 `charset'[language]'value-chars`; UTF-8 and ISO-8859-1 only (as the RFC requires). */
function decodeExtValue(extended: string): string | undefined {
  const first = extended.indexOf("'");
  const second = first === -1 ? -1 : extended.indexOf("'", first + 1);
  if (second === -1) return undefined;
  const charset = extended.slice(0, first).toLowerCase();
  const encoded = extended.slice(second + 1);
  try {
    if (charset === "utf-8") return decodeURIComponent(encoded);
    // Each %XX is one ISO-8859-1 character, whose code point is XX: what `unescape` produces.
    if (charset === "iso-8859-1") return unescape(encoded);
  } catch {
    return undefined;
  }
  return undefined;
}
