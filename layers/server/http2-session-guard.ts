/**
 * Per-connection bookkeeping for the HTTP/2 server: the idle timeout, and the abuse bounds that
 * nghttp2's own limits leave to the application.
 *
 * nghttp2 (through node's options) already refuses streams past SETTINGS_MAX_CONCURRENT_STREAMS,
 * closes a session after `maxSessionRejectedStreams` refused streams or `maxSessionInvalidFrames`
 * invalid frames, and since 1.57 rate-limits stream resets (a burst of 1000, then 33/s). Those
 * bounds are generous: 1000 resets each start an app. The guard counts, per connection and per
 * window, what a well-behaved client does rarely and a flooder does constantly:
 *
 * - streams the client resets before their response completed (rapid reset, CVE-2023-44487:
 *   open and cancel streams so the server does work the client never waits for);
 * - PING frames (CVE-2019-9512) and SETTINGS frames (CVE-2019-9515): each costs the server an ACK.
 *
 * Past a bound the connection is closed with GOAWAY(ENHANCE_YOUR_CALM) (RFC 9113 §5.4.1/§7) and
 * destroyed; other connections and the process are unaffected. Counts are kept in fixed windows
 * (reset every `windowMs`), read from an injected clock.
 *
 * The idle timeout closes (GOAWAY, NO_ERROR) a connection that has had no open stream for
 * `idleTimeout` ms, counted from its last stream or from its start: HTTP/2's keep-alive timeout.
 * node's own session timeout is not used: it counts any frame as activity, and closes a
 * connection whose only stream is a quiet long poll.
 *
 * @module
 */
import { constants } from "node:http2";
import type { ServerHttp2Session } from "node:http2";
import type { Logger } from "../../lib/logger.js";

/** What one connection may do per window before it is closed. */
export interface Http2AbuseLimits {
  /** Streams the client resets before their response completed. Default 200. */
  maxResets: number;
  /** PING frames received. Default 100. */
  maxPings: number;
  /** SETTINGS frames received (the first one included). Default 100. */
  maxSettings: number;
  /** Length of a counting window, ms. Default 10 s. */
  windowMs: number;
}

/** Defaults for {@link Http2AbuseLimits}. */
export const DEFAULT_ABUSE_LIMITS: Readonly<Http2AbuseLimits> = Object.freeze({
  maxResets: 200,
  maxPings: 100,
  maxSettings: 100,
  windowMs: 10_000,
});

/** Per-session counters, on the session under a symbol. */
interface SessionState {
  open: number;
  idleTimer: NodeJS.Timeout | undefined;
  windowStart: number;
  resets: number;
  pings: number;
  settings: number;
}

const kGuard = Symbol("laminar.h2guard");
type GuardedSession = ServerHttp2Session & { [kGuard]?: SessionState };

/**
 * Watches every session of one server. The server calls {@link Http2SessionGuard.attach} on each
 * new session; the adapter reports streams opening and closing.
 */
export class Http2SessionGuard {
  private readonly limits: Http2AbuseLimits;
  private readonly idleTimeout: number;
  private readonly now: () => number;
  private readonly logger: Logger;

  constructor(options: { limits: Http2AbuseLimits; idleTimeout: number; now: () => number; logger: Logger }) {
    this.limits = options.limits;
    this.idleTimeout = options.idleTimeout;
    this.now = options.now;
    this.logger = options.logger;
    this.streamOpened = this.streamOpened.bind(this);
    this.streamClosed = this.streamClosed.bind(this);
  }

  /** Starts watching `session` (its frames, and its idleness from now). */
  attach(session: ServerHttp2Session): void {
    const state: SessionState = { open: 0, idleTimer: undefined, windowStart: this.now(), resets: 0, pings: 0, settings: 0 };
    (session as GuardedSession)[kGuard] = state;
    this.armIdle(session, state);
    session.on("ping", () => {
      this.count(session, state, "pings");
    });
    session.on("remoteSettings", () => {
      this.count(session, state, "settings");
    });
    session.once("close", () => {
      if (state.idleTimer !== undefined) clearTimeout(state.idleTimer);
      state.idleTimer = undefined;
    });
  }

  /** A stream opened on `session`: it is not idle. */
  streamOpened(session: ServerHttp2Session): void {
    const state = (session as GuardedSession)[kGuard];
    if (state === undefined) return;
    state.open++;
    if (state.idleTimer !== undefined) {
      clearTimeout(state.idleTimer);
      state.idleTimer = undefined;
    }
  }

  /** A stream closed; `clientReset` when the client reset it before its response completed. */
  streamClosed(session: ServerHttp2Session, clientReset: boolean): void {
    const state = (session as GuardedSession)[kGuard];
    if (state === undefined) return;
    state.open--;
    if (clientReset) this.count(session, state, "resets");
    if (state.open === 0) this.armIdle(session, state);
  }

  private armIdle(session: ServerHttp2Session, state: SessionState): void {
    if (this.idleTimeout <= 0 || session.closed || session.destroyed) return;
    state.idleTimer = setTimeout(closeIdle, this.idleTimeout, session, state);
  }

  private count(session: ServerHttp2Session, state: SessionState, what: "resets" | "pings" | "settings"): void {
    const now = this.now();
    const limits = this.limits;
    if (now - state.windowStart >= limits.windowMs) {
      state.windowStart = now;
      state.resets = 0;
      state.pings = 0;
      state.settings = 0;
    }
    const count = ++state[what];
    const max = what === "resets" ? limits.maxResets : what === "pings" ? limits.maxPings : limits.maxSettings;
    if (count <= max || session.destroyed) return;
    const socket = session.socket;
    this.logger.warn({ what, count, windowMs: limits.windowMs, client: socket?.remoteAddress }, "http2 connection closed: too many frames of one kind (ENHANCE_YOUR_CALM)");
    // GOAWAY(ENHANCE_YOUR_CALM) tells the client why; destroy() then drops its streams and the
    // socket without waiting for them (destroy's own GOAWAY says NO_ERROR).
    session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    session.destroy();
  }
}

/** The idle timer fired: GOAWAY(NO_ERROR); the session closes at once (no stream is open). */
function closeIdle(session: ServerHttp2Session, state: SessionState): void {
  state.idleTimer = undefined;
  if (state.open === 0 && !session.closed && !session.destroyed) session.close();
}
