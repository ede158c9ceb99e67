/**
 * The peer's address as uWS reports it, turned into the text node would give.
 *
 * @module
 */

/**
 * The peer's IP as text from uWS's `getRemoteAddressAsText()` (IPv6 canonicalised: this build
 * prints all eight groups, zero-padded; an IPv4-mapped address becomes plain IPv4).
 */
export function peerAddress(asText: ArrayBuffer): string {
  const text = Buffer.from(asText).toString("latin1");
  if (text.indexOf(":") === -1) return text;
  const mapped = /^(?:0{1,4}:){5}ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (mapped !== null) return mapped[1]!;
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return text;
  }
}
