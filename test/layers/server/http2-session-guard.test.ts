/**
 * Http2SessionGuard with a fake session and an injected clock: the counting windows (a burst past
 * the bound closes the session; the same number spread over two windows does not), which streams
 * count as resets, and that one session's flood does not touch another.
 */
import t from "tap";
import { EventEmitter } from "node:events";
import { constants } from "node:http2";
import type { ServerHttp2Session } from "node:http2";
import { Http2SessionGuard, DEFAULT_ABUSE_LIMITS } from "../../../layers/server/http2-session-guard.js";
import { capturingLogger } from "../../conformance/server/test-apps.js";

class FakeSession extends EventEmitter {
  closed = false;
  destroyed = false;
  goawayCode: number | undefined;
  socket = { remoteAddress: "192.0.2.1" };
  goaway(code: number): void {
    this.goawayCode = code;
  }
  destroy(): void {
    this.destroyed = true;
  }
  close(): void {
    this.closed = true;
  }
}

function setup(limits = { maxResets: 3, maxPings: 3, maxSettings: 3, windowMs: 1_000 }) {
  let now = 10_000;
  const logger = capturingLogger();
  // idleTimeout 0: no idle timer (the idle timeout is tested on a real socket in the conformance file).
  const guard = new Http2SessionGuard({ limits, idleTimeout: 0, now: () => now, logger });
  const session = new FakeSession();
  guard.attach(session as unknown as ServerHttp2Session);
  return { guard, session, logger, advance: (ms: number) => (now += ms), as: (s: FakeSession) => s as unknown as ServerHttp2Session };
}

t.test("the defaults", async (t) => {
  t.same(DEFAULT_ABUSE_LIMITS, { maxResets: 200, maxPings: 100, maxSettings: 100, windowMs: 10_000 });
});

for (const [event, kind] of [["ping", "pings"], ["remoteSettings", "settings"]] as const) {
  t.test(`${kind}: up to the bound per window is fine, one more closes with ENHANCE_YOUR_CALM`, async (t) => {
    const { session, logger, advance } = setup();
    for (let i = 0; i < 3; i++) session.emit(event);
    t.notOk(session.destroyed, "at the bound");
    advance(1_000);
    for (let i = 0; i < 3; i++) session.emit(event);
    t.notOk(session.destroyed, "a new window starts from zero");
    session.emit(event);
    t.ok(session.destroyed, "past the bound");
    t.equal(session.goawayCode, constants.NGHTTP2_ENHANCE_YOUR_CALM);
    t.match(logger.entries, [{ level: "warn", obj: { what: kind, count: 4, client: "192.0.2.1" } }]);
  });
}

t.test("resets: only streams the client reset before their response completed count", async (t) => {
  const { guard, session, as } = setup();
  for (let i = 0; i < 10; i++) {
    guard.streamOpened(as(session));
    guard.streamClosed(as(session), false);
  }
  t.notOk(session.destroyed, "completed streams do not count");
  for (let i = 0; i < 3; i++) {
    guard.streamOpened(as(session));
    guard.streamClosed(as(session), true);
  }
  t.notOk(session.destroyed);
  guard.streamOpened(as(session));
  guard.streamClosed(as(session), true);
  t.ok(session.destroyed, "the fourth reset in the window");
});

t.test("one session's flood leaves another alone; an unknown session is ignored", async (t) => {
  const { guard, session, as } = setup();
  const other = new FakeSession();
  guard.attach(as(other));
  for (let i = 0; i < 4; i++) session.emit("ping");
  t.ok(session.destroyed);
  t.notOk(other.destroyed);
  const stranger = new FakeSession();
  guard.streamOpened(as(stranger));
  guard.streamClosed(as(stranger), true);
  t.notOk(stranger.destroyed, "never attached: not counted");
});
