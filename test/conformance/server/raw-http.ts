/**
 * Test helper: talks HTTP/1.1 over a raw `node:net` socket, so tests can send bytes no HTTP client
 * would (malformed lines, lying lengths, pipelined requests) and see exactly what comes back.
 *
 * @module
 */
import { connect, type Socket } from "node:net";

/** One parsed response. */
export interface RawResponse {
  status: number;
  /** The status line as received: `HTTP/1.1 200 OK`. */
  statusLine: string;
  /** Header names lower-cased; repeated names joined with ", ". */
  headers: Record<string, string>;
  /** Every header line as received, for assertions on repeats. */
  rawHeaders: Array<[string, string]>;
  body: string;
}

/** What came back on one connection. */
export interface RawResult {
  responses: RawResponse[];
  /** The server closed (or reset) the connection before we stopped reading. */
  closed: boolean;
  /** Bytes after the last complete response (a truncated response, say). */
  leftover: string;
}

/** Options for {@link rawRequest}. */
export interface RawRequestOptions {
  /** Stop reading once this many responses have been parsed (default: read until the server closes). */
  responses?: number;
  /** Responses to HEAD requests have no body whatever their content-length says. */
  head?: boolean;
  /** Guard against a hung server: give up (and fail) after this long. Not a timing assertion. */
  guardMs?: number;
}

/** Opens a connection to `port` on 127.0.0.1 (or `host`). */
export function openSocket(port: number, host = "127.0.0.1"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host }, () => {
      socket.removeListener("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * Sends `data` on a fresh connection and parses responses until `responses` arrived or the server
 * closed the connection.
 */
export async function rawRequest(port: number, data: string | Buffer, options: RawRequestOptions = {}): Promise<RawResult> {
  const socket = await openSocket(port);
  const result = collectResponses(socket, options);
  socket.write(data);
  return result;
}

/** Reads responses from an open socket (see {@link rawRequest}); destroys the socket when done. */
export function collectResponses(socket: Socket, options: RawRequestOptions = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const responses: RawResponse[] = [];
    let done = false;
    const guard = setTimeout(() => finish(new Error(`no answer within ${options.guardMs ?? 10_000} ms`)), options.guardMs ?? 10_000);
    const finish = (err: Error | null, closed = false): void => {
      if (done) return;
      done = true;
      clearTimeout(guard);
      socket.destroy();
      if (err !== null) reject(err);
      else resolve({ responses, closed, leftover: buffer.toString("latin1") });
    };
    const parseAll = (eof: boolean): void => {
      for (;;) {
        const parsed = parseResponse(buffer, options.head === true, eof);
        if (parsed === null) return;
        responses.push(parsed.response);
        buffer = buffer.subarray(parsed.consumed);
        if (options.responses !== undefined && responses.length >= options.responses) {
          finish(null, false);
          return;
        }
      }
    };
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      parseAll(false);
    });
    socket.on("error", () => {
      /* a reset after the response is still "closed"; handled by 'close' */
    });
    socket.on("close", () => {
      parseAll(true);
      finish(null, true);
    });
  });
}

/** Parses one response from the start of `buf`, or returns null when it is not complete yet. */
export function parseResponse(buf: Buffer, head: boolean, eof: boolean): { response: RawResponse; consumed: number } | null {
  const end = buf.indexOf("\r\n\r\n");
  if (end === -1) return null;
  const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (m === null) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
  const status = Number(m[1]);
  const statusLine = lines[0];
  const headers: Record<string, string> = {};
  const rawHeaders: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    rawHeaders.push([name, value]);
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let offset = end + 4;
  const noBody = head || status === 204 || status === 304 || (status >= 100 && status < 200);
  if (noBody) return { response: { status, statusLine, headers, rawHeaders, body: "" }, consumed: offset };
  if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    if (buf.length < offset + length) return null;
    return { response: { status, statusLine, headers, rawHeaders, body: buf.subarray(offset, offset + length).toString("utf8") }, consumed: offset + length };
  }
  if ((headers["transfer-encoding"] ?? "").toLowerCase().includes("chunked")) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", offset);
      if (lineEnd === -1) return null;
      const size = parseInt(buf.subarray(offset, lineEnd).toString("latin1"), 16);
      if (buf.length < lineEnd + 2 + size + 2) return null;
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      offset = lineEnd + 2 + size + 2;
      if (size === 0) break;
    }
    return { response: { status, statusLine, headers, rawHeaders, body: Buffer.concat(parts).toString("utf8") }, consumed: offset };
  }
  // Delimited by close (HTTP/1.0 style).
  if (!eof) return null;
  return { response: { status, statusLine, headers, rawHeaders, body: buf.subarray(offset).toString("utf8") }, consumed: buf.length };
}
