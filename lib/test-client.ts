/**
 * The in-process test client: drives an app through the event interface directly, with no socket
 * (Starlette's `TestClient`, `fastify.inject`). Every layer above the adapter runs exactly as it
 * does behind a server, and the same protocol rules are enforced on the app's `send()` calls.
 *
 * By default an error that escapes the app is re-thrown to the test (Starlette's
 * `raise_server_exceptions=True`), so a test sees the real failure rather than a bare 500; pass
 * `raiseServerExceptions: false` to get the 500 a real server would send.
 *
 * @example
 * const client = new TestClient(app);
 * const res = await client.post("/books", { json: { title: "Dune", authorId: 1, price: 9.5 } });
 * t.equal(res.status, 201);
 * t.equal(res.json<{ title: string }>().title, "Dune");
 *
 * @module
 */
import type { App as EventApp, HeaderList, HttpScope, ReceiveEvent, SendEvent } from "../layers/adapter/events.js";
import { ProtocolError, ResponseNotCompletedError } from "./errors.js";
import { App } from "./app.js";
import { LifespanRunner } from "./lifespan.js";

/** Options of one request. */
export interface TestRequestOptions {
  /** Headers; names are lower-cased. */
  headers?: Record<string, string> | HeaderList;
  /** Query parameters appended to the path (arrays repeat the key). */
  query?: Record<string, string | number | boolean | ReadonlyArray<string | number | boolean>>;
  /** A JSON body: serialized, with `content-type: application/json` unless set. */
  json?: unknown;
  /** A raw body, sent as given. */
  body?: string | Uint8Array;
  /** Split the body into these many `http.request` events (to exercise streaming). Default 1. */
  chunks?: number;
  /** After the body, report a client disconnect instead of waiting for the response. */
  disconnect?: boolean;
}

/** The response, fully collected. */
export class TestResponse {
  constructor(
    readonly status: number,
    /** Headers as sent, in order. */
    readonly headerList: HeaderList,
    /** The body bytes. */
    readonly body: Buffer,
    /** True when the app completed the response (false when it stopped mid-stream). */
    readonly complete: boolean,
  ) {}

  /** Headers by lower-cased name (repeated headers joined with ", "). */
  get headers(): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [name, value] of this.headerList) result[name] = name in result ? `${result[name]}, ${value}` : value;
    return result;
  }

  /** The body as UTF-8 text. */
  get text(): string {
    return this.body.toString("utf8");
  }

  /** The body parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text) as T;
  }
}

/** Options of the client. */
export interface TestClientOptions {
  /** Re-throw errors that escape the app (default true). */
  raiseServerExceptions?: boolean;
  /** `scope.client`; default `["testclient", 50000]`, as Starlette. */
  client?: [string, number];
  /** Base root path for every request. Default "". */
  rootPath?: string;
}

function encodeQuery(query: TestRequestOptions["query"]): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
    else params.append(key, String(value));
  }
  return params.toString();
}

function toHeaderList(headers: TestRequestOptions["headers"]): HeaderList {
  if (headers === undefined) return [];
  const entries = Array.isArray(headers) ? headers : Object.entries(headers);
  return entries.map(([name, value]) => [name.toLowerCase(), value]);
}

/** Drives an app in-process. */
export class TestClient {
  private readonly app: EventApp;
  private readonly settings: TestClientOptions;
  private lifespan: LifespanRunner | undefined;
  private state: Record<string, unknown> = {};

  constructor(app: EventApp | App, options: TestClientOptions = {}) {
    this.app = app instanceof App ? app.handle : app;
    this.settings = options;
  }

  /** Runs the app's lifespan startup (requests before it see an empty `scope.state`). */
  async start(): Promise<void> {
    this.lifespan = new LifespanRunner(this.app);
    this.state = await this.lifespan.startup();
  }

  /** Runs the app's lifespan shutdown. */
  async stop(): Promise<void> {
    await this.lifespan?.shutdown();
    this.lifespan = undefined;
  }

  get(path: string, options?: TestRequestOptions): Promise<TestResponse> {
    return this.request("GET", path, options);
  }
  post(path: string, options?: TestRequestOptions): Promise<TestResponse> {
    return this.request("POST", path, options);
  }
  put(path: string, options?: TestRequestOptions): Promise<TestResponse> {
    return this.request("PUT", path, options);
  }
  patch(path: string, options?: TestRequestOptions): Promise<TestResponse> {
    return this.request("PATCH", path, options);
  }
  delete(path: string, options?: TestRequestOptions): Promise<TestResponse> {
    return this.request("DELETE", path, options);
  }
  head(path: string, options?: TestRequestOptions): Promise<TestResponse> {
    return this.request("HEAD", path, options);
  }
  options(path: string, options?: TestRequestOptions): Promise<TestResponse> {
    return this.request("OPTIONS", path, options);
  }

  /** Sends one request through the app and collects the response. */
  async request(method: string, target: string, options: TestRequestOptions = {}): Promise<TestResponse> {
    const headers = toHeaderList(options.headers);
    let body: Buffer = Buffer.alloc(0);
    if (options.json !== undefined) {
      body = Buffer.from(JSON.stringify(options.json));
      if (!headers.some(([name]) => name === "content-type")) headers.push(["content-type", "application/json"]);
    } else if (options.body !== undefined) {
      body = Buffer.from(options.body);
    }
    if (body.length > 0 && !headers.some(([name]) => name === "content-length")) headers.push(["content-length", String(body.length)]);
    if (!headers.some(([name]) => name === "host")) headers.unshift(["host", "testserver"]);

    const questionMark = target.indexOf("?");
    const rawPath = questionMark === -1 ? target : target.slice(0, questionMark);
    const extraQuery = encodeQuery(options.query);
    const ownQuery = questionMark === -1 ? "" : target.slice(questionMark + 1);
    const queryString = [ownQuery, extraQuery].filter((q) => q !== "").join("&");
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      path = rawPath;
    }
    const rootPath = this.settings.rootPath ?? "";
    const scope: HttpScope = {
      type: "http",
      method: method.toUpperCase(),
      path: rootPath !== "" && path.startsWith(rootPath) ? path.slice(rootPath.length) || "/" : path,
      rawPath,
      queryString,
      headers,
      httpVersion: "1.1",
      scheme: "http",
      client: this.settings.client ?? ["testclient", 50000],
      server: ["testserver", 80],
      rootPath,
      state: { ...this.state },
    };

    // Request side: the body in `chunks` events, then disconnect once the response is complete.
    const chunkCount = Math.max(1, options.chunks ?? 1);
    const size = Math.ceil(body.length / chunkCount) || 0;
    const events: ReceiveEvent[] = [];
    for (let i = 0; i < chunkCount; i++) {
      const piece = body.subarray(i * size, (i + 1) * size);
      events.push({ type: "http.request", body: piece, moreBody: i < chunkCount - 1 });
    }
    let responseDone!: () => void;
    const completed = new Promise<void>((resolve) => (responseDone = resolve));
    const receive = async (): Promise<ReceiveEvent> => {
      const next = events.shift();
      if (next !== undefined) return next;
      if (!options.disconnect) await completed;
      return { type: "http.disconnect" };
    };

    // Response side: the same protocol the adapter enforces.
    let status = 0;
    let responseHeaders: HeaderList = [];
    const parts: Buffer[] = [];
    const progress = { state: "idle" as "idle" | "started" | "complete" };
    const send = async (event: SendEvent): Promise<void> => {
      if (progress.state === "idle") {
        if (event.type !== "http.response.start") throw new ProtocolError("http.response.start", event.type);
        status = event.status;
        responseHeaders = event.headers;
        progress.state = "started";
      } else if (progress.state === "started") {
        if (event.type !== "http.response.body") throw new ProtocolError("http.response.body", event.type);
        if (event.body !== undefined && method.toUpperCase() !== "HEAD") parts.push(Buffer.from(event.body));
        if (event.moreBody !== true) {
          progress.state = "complete";
          responseDone();
        }
      } else {
        throw new ProtocolError("nothing (response complete)", event.type);
      }
    };

    let failure: unknown;
    let failed = false;
    try {
      await this.app(scope, receive, send);
      if (progress.state !== "complete") throw new ResponseNotCompletedError(progress.state === "idle" ? "no response started" : "response body not finished");
    } catch (error) {
      failed = true;
      failure = error;
    }
    responseDone();
    if (failed && this.settings.raiseServerExceptions !== false) throw failure;
    if (failed && progress.state === "idle") {
      return new TestResponse(500, [["content-type", "application/json"]], Buffer.from('{"detail":"Internal Server Error"}'), true);
    }
    return new TestResponse(status, responseHeaders, Buffer.concat(parts), progress.state === "complete");
  }
}
