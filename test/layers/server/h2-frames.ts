/**
 * Raw HTTP/2 frames for tests that must send what a well-behaved client library refuses to
 * (floods, oversized header blocks): a connection preface, frames built byte by byte (RFC 9113
 * §4.1), a minimal HPACK encoder (RFC 7541: indexed static entries and literals without
 * indexing), and a parser for what the server sends back.
 *
 * @module
 */
import { connect, type Socket } from "node:net";

/** The client connection preface (RFC 9113 §3.4). */
export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Frame types used here (RFC 9113 §6). */
export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, CONTINUATION: 9 } as const;

/** One frame: 9-byte header, then the payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

/** An HPACK integer with an `n`-bit prefix (RFC 7541 §5.1), `first` holding the pattern bits. */
function hpackInt(value: number, n: number, first: number): Buffer {
  const max = (1 << n) - 1;
  if (value < max) return Buffer.from([first | value]);
  const bytes = [first | max];
  value -= max;
  while (value >= 128) {
    bytes.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

/** A literal header field without indexing, new name (RFC 7541 §6.2.2). */
export function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name);
  const v = Buffer.from(value);
  return Buffer.concat([Buffer.from([0x00]), hpackInt(n.length, 7, 0), n, hpackInt(v.length, 7, 0), v]);
}

/**
 * The header block of `GET <path>` for `authority` over http: `:method GET`, `:scheme http` and
 * `:path /` are static-table entries 2, 6 and 4 (RFC 7541 Appendix A); the rest are literals.
 */
export function getHeaderBlock(authority: string, extra: Array<[string, string]> = []): Buffer {
  return Buffer.concat([Buffer.from([0x82, 0x86, 0x84]), literal(":authority", authority), ...extra.map(([n, v]) => literal(n, v))]);
}

/** A parsed frame from the server. */
export interface ParsedFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Splits `data` into whole frames (a trailing partial frame is ignored). */
export function parseFrames(data: Buffer): ParsedFrame[] {
  const frames: ParsedFrame[] = [];
  let offset = 0;
  while (offset + 9 <= data.length) {
    const length = data.readUIntBE(offset, 3);
    if (offset + 9 + length > data.length) break;
    frames.push({
      type: data[offset + 3]!,
      flags: data[offset + 4]!,
      streamId: data.readUInt32BE(offset + 5) & 0x7fffffff,
      payload: data.subarray(offset + 9, offset + 9 + length),
    });
    offset += 9 + length;
  }
  return frames;
}

/** A raw connection: everything the server sends is collected; `closed` resolves when it ends. */
export interface RawH2Connection {
  socket: Socket;
  received(): Buffer;
  closed: Promise<void>;
}

/** Opens a TCP connection to 127.0.0.1:`port` and sends the preface and an empty SETTINGS frame. */
export async function rawH2(port: number): Promise<RawH2Connection> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

/** The error code of the GOAWAY the server sent, or undefined if none. */
export function goawayCode(data: Buffer): number | undefined {
  const goaway = parseFrames(data).find((f) => f.type === FRAME.GOAWAY);
  return goaway === undefined ? undefined : goaway.payload.readUInt32BE(4);
}
