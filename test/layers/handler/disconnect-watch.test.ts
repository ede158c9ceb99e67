/**
 * watchDisconnect: the flag rises on `http.disconnect` (after discarding body events), on a body
 * over the limit, and stays down when `receive()` fails for another reason.
 */
import t from "tap";
import type { Receive, ReceiveEvent } from "../../../layers/adapter/events.js";
import { watchDisconnect } from "../../../layers/handler/disconnect-watch.js";
import { BodyTooLargeError, ProtocolError } from "../../../lib/errors.js";

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test("rises on http.disconnect, after body events", async (t) => {
  const queue: ReceiveEvent[] = [
    { type: "http.request", body: new Uint8Array(3), moreBody: true },
    { type: "http.request", body: new Uint8Array(0), moreBody: false },
  ];
  let release: ((event: ReceiveEvent) => void) | undefined;
  const receive: Receive = () => {
    const next = queue.shift();
    if (next !== undefined) return Promise.resolve(next);
    return new Promise((resolve) => (release = resolve));
  };
  const watch = watchDisconnect(receive);
  await tick();
  t.equal(watch.disconnected, false, "body events are not a disconnect");
  t.ok(release, "waiting on receive()");
  release!({ type: "http.disconnect" });
  await tick();
  t.equal(watch.disconnected, true);
});

t.test("a body over the limit counts as gone; other failures do not", async (t) => {
  const tooLarge = watchDisconnect(() => Promise.reject(new BodyTooLargeError(10)));
  const busy = watchDisconnect(() => Promise.reject(new ProtocolError("one receive() at a time", "a second concurrent receive()")));
  await tick();
  t.equal(tooLarge.disconnected, true);
  t.equal(busy.disconnected, false);
});
