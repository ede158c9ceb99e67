/**
 * Test helper: reads one large response from a raw socket without keeping it. The body is decoded
 * as it arrives (content-length or chunked framing) and only counted and hashed, so a 64 MiB
 * response costs neither 64 MiB of memory nor the quadratic re-concatenation `raw-http.ts` does
 * for small responses.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Socket } from "node:net";

/** What {@link readStreamedResponse} resolves with. */
export interface StreamedResponse {
  /** 0 when no complete head arrived. */
  status: number;
  /** Header names lower-cased; repeated names joined with ", ". */
  headers: Record<string, string>;
  /** Decoded body bytes received (framing removed). */
  bodyBytes: number;
  /** sha256 (hex) of the decoded body bytes received. */
  sha256: string;
  /** The body's framing said it was complete (final chunk, or content-length reached). */
  complete: boolean;
}

/** Options for {@link readStreamedResponse}. */
export interface StreamReadOptions {
  /** Called after each piece of decoded body, with the running total. */
  onBody?: (bodyBytes: number) => void;
  /** Guard against a hung server: give up (reject) after this long. Not a timing assertion. */
  guardMs?: number;
}

const HEAD = 0;
const SIZE_LINE = 1;
const DATA = 2;
const DATA_CRLF = 3;
const TRAILERS = 4;
const DONE = 5;

/**
 * Reads one response from `socket` (attaching a 'data' listener: a socket the caller paused stays
 * paused until it calls `resume()`). Resolves once the body is complete (the socket is then
 * destroyed) or when the server closes the connection (`complete: false` if that cut it short).
 */
export function readStreamedResponse(socket: Socket, options: StreamReadOptions = {}): Promise<StreamedResponse> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    const headers: Record<string, string> = {};
    let status = 0;
    let state = HEAD;
    let pending: Buffer = Buffer.alloc(0); // unparsed head or framing bytes (small)
    let remaining = 0; // body bytes left in the current chunk, or of the content-length body
    let chunked = false;
    let bodyBytes = 0;
    let finished = false;
    const guardMs = options.guardMs ?? 20_000;
    const guard = setTimeout(() => finish(new Error(`response not complete within ${guardMs} ms (${bodyBytes} body bytes)`)), guardMs);

    const finish = (err: Error | null): void => {
      if (finished) return;
      finished = true;
      clearTimeout(guard);
      socket.destroy();
      if (err !== null) reject(err);
      else resolve({ status, headers, bodyBytes, sha256: hash.digest("hex"), complete: state === DONE });
    };
    const body = (bytes: Buffer): void => {
      hash.update(bytes);
      bodyBytes += bytes.length;
      options.onBody?.(bodyBytes);
    };
    /** Takes one CRLF-terminated line off `pending`, or null when it has not arrived yet. */
    const line = (): string | null => {
      const end = pending.indexOf("\r\n");
      if (end === -1) return null;
      const text = pending.subarray(0, end).toString("latin1");
      pending = pending.subarray(end + 2);
      return text;
    };

    const feed = (input: Buffer): void => {
      let data: Buffer = input;
      while (!finished && state !== DONE) {
        if (state === DATA) {
          if (data.length === 0) return;
          const take = Math.min(remaining, data.length);
          body(data.subarray(0, take));
          data = data.subarray(take);
          remaining -= take;
          if (remaining === 0) state = chunked ? DATA_CRLF : DONE;
          continue;
        }
        // Framing: small, so gather it in `pending`.
        if (data.length > 0) {
          pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
          data = Buffer.alloc(0);
        }
        if (state === HEAD) {
          const end = pending.indexOf("\r\n\r\n");
          if (end === -1) return;
          const lines = pending.subarray(0, end).toString("latin1").split("\r\n");
          pending = pending.subarray(end + 4);
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
          if (m === null) return finish(new Error(`not a status line: ${JSON.stringify(lines[0])}`));
          status = Number(m[1]);
          for (const headerLine of lines.slice(1)) {
            const colon = headerLine.indexOf(":");
            const name = headerLine.slice(0, colon).toLowerCase();
            const value = headerLine.slice(colon + 1).trim();
            headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
          }
          chunked = (headers["transfer-encoding"] ?? "").toLowerCase().includes("chunked");
          if (chunked) state = SIZE_LINE;
          else if (headers["content-length"] !== undefined) {
            remaining = Number(headers["content-length"]);
            state = remaining === 0 ? DONE : DATA;
          } else return finish(new Error("response without content-length or chunked framing"));
        } else if (state === SIZE_LINE) {
          const sizeLine = line();
          if (sizeLine === null) return;
          remaining = parseInt(sizeLine.split(";")[0], 16);
          if (Number.isNaN(remaining)) return finish(new Error(`bad chunk size line ${JSON.stringify(sizeLine)}`));
          state = remaining === 0 ? TRAILERS : DATA;
        } else if (state === DATA_CRLF) {
          if (pending.length < 2) return;
          if (pending[0] !== 13 || pending[1] !== 10) return finish(new Error("chunk data not followed by CRLF"));
          pending = pending.subarray(2);
          state = SIZE_LINE;
        } else if (state === TRAILERS) {
          const trailer = line();
          if (trailer === null) return;
          if (trailer === "") state = DONE;
        }
        // A state that consumed `pending` hands what is left of it back as input.
        if (state === DATA && pending.length > 0) {
          data = pending;
          pending = Buffer.alloc(0);
        }
      }
      if (state === DONE) finish(null);
    };

    socket.on("data", feed);
    socket.on("error", () => {
      /* a reset is reported through 'close' */
    });
    socket.on("close", () => finish(null));
  });
}
