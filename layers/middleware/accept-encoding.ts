/**
 * Content negotiation for the compression layer: which content-coding an `Accept-Encoding` value
 * (RFC 9110 §12.5.3) asks for, among the ones the server offers.
 *
 * @module
 */

/** A content-coding the compression layer can produce. */
export type Coding = "br" | "gzip";

/**
 * The most list elements looked at. Real browsers send three to five; the cap keeps a forged
 * 16 KB header from costing more than a short one (what comes after is ignored, so at worst the
 * response goes uncompressed).
 */
export const MAX_ACCEPT_ENCODING_ELEMENTS = 32;

/** RFC 9110 §12.4.2 `qvalue`: `0`, `0.5`, `1`, `1.000`; three decimals at most, never above 1. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * The coding to use for a response to a request with this `Accept-Encoding` value, among `offered`
 * (in order of preference, which breaks ties between equal q-values), or undefined for none
 * (send the body as it is):
 *
 * - a coding's weight is its own `q` (default 1); unnamed, the weight of `*` if present; else 0;
 * - `q=0` excludes a coding (`br;q=0, *` means anything but brotli);
 * - an element whose `q` cannot be read (`gzip;q=abc`, `q=2`) is ignored entirely, not taken as
 *   `q=1`: a broken header never gets more compression than it asked for;
 * - `identity` is always the fallback; named with a weight, a coding is chosen only if its weight is
 *   at least identity's (`gzip;q=0.5, identity` gets the body as it is, `gzip;q=0.5` alone gets
 *   gzip: RFC 9110 makes an unnamed identity acceptable, not preferred). When everything is
 *   excluded (`identity;q=0`, `*;q=0`), the body goes as it is anyway (RFC 9110 lets a server
 *   answer so rather than 406).
 */
export function negotiateEncoding(value: string, offered: readonly Coding[]): Coding | undefined {
  const weights = new Map<string, number>();
  let start = 0;
  for (let count = 0; count < MAX_ACCEPT_ENCODING_ELEMENTS && start <= value.length; count++) {
    let comma = value.indexOf(",", start);
    if (comma === -1) comma = value.length;
    const element = value.slice(start, comma);
    start = comma + 1;
    const semicolon = element.indexOf(";");
    const name = (semicolon === -1 ? element : element.slice(0, semicolon)).trim().toLowerCase();
    if (name === "") continue;
    const weight = semicolon === -1 ? 1 : qvalue(element.slice(semicolon + 1));
    // An unreadable element is dropped; a repeated name keeps its first weight.
    if (weight !== undefined && !weights.has(name)) weights.set(name, weight);
  }
  const any = weights.get("*");
  const identity = weights.get("identity") ?? 0;
  let best: Coding | undefined;
  let bestWeight = 0;
  for (const coding of offered) {
    const weight = weights.get(coding) ?? any ?? 0;
    if (weight > bestWeight) {
      best = coding;
      bestWeight = weight;
    }
  }
  return best !== undefined && bestWeight >= identity ? best : undefined;
}

/** The `q` among an element's parameters (`;q=0.8`, any case, spaces allowed); 1 without one; undefined when unreadable. */
function qvalue(parameters: string): number | undefined {
  let weight = 1;
  for (const parameter of parameters.split(";")) {
    const equals = parameter.indexOf("=");
    if (equals === -1) {
      if (parameter.trim() === "") continue;
      return undefined;
    }
    if (parameter.slice(0, equals).trim().toLowerCase() !== "q") continue;
    const text = parameter.slice(equals + 1).trim();
    if (!QVALUE.test(text)) return undefined;
    weight = Number(text);
  }
  return weight;
}
