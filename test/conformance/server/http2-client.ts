/**
 * A small HTTP/2 client for server tests, on node:http2's `connect`: one request on a session,
 * collected into status, headers and body, or the way the stream ended when it did not end well.
 *
 * @module
 */
import * as http2 from "node:http2";
import type { ClientHttp2Session, IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";

/** How a request ended. `rstCode` is set when the server reset the stream instead of ending it. */
export interface H2Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The stream's RST_STREAM code when it did not end normally (0: ended normally). */
  rstCode: number;
}

/** Opens a session to `url` (h2c for http:, h2 over TLS for https: with `ca` trusted). */
export async function h2connect(url: string, options: http2.SecureClientSessionOptions = {}): Promise<ClientHttp2Session> {
  const session = http2.connect(url, options);
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => {
      session.removeListener("error", reject);
      resolve();
    });
    session.once("error", reject);
  });
  // A server closing the session (GOAWAY, a test's abuse) must not throw in the test process.
  session.on("error", () => {});
  return session;
}

/** Sends one request (`:path` defaults to "/", `:method` to GET) and collects the answer. */
export function h2request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string | Buffer): Promise<H2Response> {
  return new Promise<H2Response>((resolve) => {
    const stream = session.request({ ":path": "/", ...headers }, { endStream: body === undefined });
    let status = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      responseHeaders = h;
      status = Number(h[":status"]);
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", () => {});
    stream.on("close", () => resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks), rstCode: stream.rstCode ?? 0 }));
    if (body !== undefined) stream.end(body);
  });
}

/** One request on a fresh session, closed afterwards. */
export async function h2get(url: string, path: string, options: http2.SecureClientSessionOptions = {}): Promise<H2Response> {
  const session = await h2connect(url, options);
  try {
    return await h2request(session, { ":path": path });
  } finally {
    session.close();
  }
}

/** Resolves when `session` has closed (GOAWAY from the server, or the socket gone). */
export function sessionClosed(session: ClientHttp2Session): Promise<void> {
  if (session.closed || session.destroyed) return Promise.resolve();
  return new Promise((resolve) => session.once("close", () => resolve()));
}
