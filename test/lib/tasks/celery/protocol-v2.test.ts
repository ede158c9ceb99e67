/**
 * The protocol 2 codec against golden messages produced by Celery 5.2's `app.amqp.as_task_v2`
 * (golden-celery-5.2.json), and laminar → Celery → laminar round trips.
 */
import { readFileSync } from "node:fs";
import t from "tap";
import type { TaskMessage } from "../../../../lib/tasks/message.js";
import {
  CeleryProtocolError,
  fromCeleryMessage,
  fromCelerySignature,
  parseIso,
  toCeleryMessage,
  UNKNOWN_GROUP_SIZE,
} from "../../../../lib/tasks/celery/protocol-v2.js";

interface Golden {
  headers: Record<string, unknown>;
  properties: Record<string, unknown>;
  body: unknown;
}
const golden = JSON.parse(readFileSync(new URL("./golden-celery-5.2.json", import.meta.url), "utf8")) as Record<"full" | "plain", Golden>;
const now = (): number => 1_700_000_000_000;

t.test("a full Celery 5.2 message decodes field by field", async (t) => {
  const { headers, properties, body } = golden.full;
  const message = fromCeleryMessage(headers, body, { ...properties, priority: 3, delivery_info: { exchange: "", routing_key: "math" } }, { now });
  t.equal(message.id, "a1b2");
  t.equal(message.task, "math.add");
  t.same(message.args, [2, 3]);
  t.same(message.kwargs, { z: 1 });
  t.equal(message.queue, "math", "the routing key when the caller does not say");
  t.equal(message.priority, 3);
  t.equal(message.eta, Date.UTC(2030, 0, 2, 3, 4, 5, 123), "ISO with microseconds and an offset");
  t.equal(message.expires, Date.UTC(2030, 0, 2, 4, 0, 0));
  t.equal(message.retries, 2);
  t.equal(message.rootId, "r1");
  t.equal(message.parentId, "p1");
  t.same(message.group, { id: "g1", index: 1, size: UNKNOWN_GROUP_SIZE }, "Python does not send the size: never completes early");
  t.same(message.timeLimit, [10, 5], "[hard, soft]");
  t.equal(message.origin, "gen1@host");
  t.equal(message.publishedAt, now(), "no publish time on the wire: the clock's");
  t.same(
    message.chain?.map((s) => [s.id, s.args, s.options]),
    [
      ["link-2", [3], { queue: "q2" }],
      ["link-3", [4], {}],
    ],
    "Celery's reversed chain comes out in run order",
  );
  t.same(message.chord, { task: "math.add", id: "cb-1", args: [], kwargs: {}, options: {} });
  t.equal(fromCeleryMessage(headers, body, properties, { queue: "from-broker", groupSize: 4 }).group?.size, 4, "a size the caller knows");
  t.equal(fromCeleryMessage(headers, body, properties, { queue: "from-broker" }).queue, "from-broker");
});

t.test("a minimal Celery message takes Celery's defaults", async (t) => {
  const { headers, body } = golden.plain;
  const message = fromCeleryMessage(headers, body, {}, { now });
  t.same(message, { id: "c3d4", task: "math.add", args: [1], kwargs: {}, queue: "celery", priority: 0, retries: 0, rootId: "c3d4", publishedAt: now(), origin: "gen2@host" });
  const withUnknown = fromCeleryMessage({ ...headers, stamps: { x: 1 }, stamped_headers: ["x"], whatever: [1] }, body, {}, { now });
  t.same(withUnknown, message, "unknown headers (Celery 5.3's stamps, anything) are ignored");
});

t.test("laminar → Celery: the headers, properties and body Celery 5.2 writes", async (t) => {
  const { headers: goldHeaders, body: goldBody } = golden.full;
  const message: TaskMessage = {
    id: "a1b2",
    task: "math.add",
    args: [2, 3],
    kwargs: { z: 1 },
    queue: "math",
    priority: 7,
    eta: Date.UTC(2030, 0, 2, 3, 4, 5, 123),
    expires: Date.UTC(2030, 0, 2, 4),
    retries: 2,
    rootId: "r1",
    parentId: "p1",
    group: { id: "g1", index: 1, size: 3 },
    chain: [
      { task: "math.add", id: "link-2", args: [3], kwargs: {}, options: { queue: "q2" } },
      { task: "math.add", id: "link-3", args: [4], kwargs: {}, options: {} },
    ],
    chord: { task: "math.add", id: "cb-1", args: [], kwargs: {}, options: {} },
    timeLimit: [10, 5],
    publishedAt: 1_600_000_000_000,
    origin: "gen1@host",
  };
  const celery = toCeleryMessage(message, { deliveryTag: "tag-1" });
  const python = goldHeaders;
  t.same(Object.keys(celery.headers).slice(0, Object.keys(python).length), Object.keys(python), "every header Celery writes, in its order");
  for (const key of ["lang", "task", "id", "shadow", "expires", "group", "group_index", "retries", "timelimit", "root_id", "parent_id", "origin", "ignore_result"]) {
    t.same(celery.headers[key], python[key], key);
  }
  t.equal(parseIso(celery.headers.eta), parseIso(python.eta), "the same instant (ms precision)");
  t.match(celery.headers.eta, /\+00:00$/, "an offset, as Python's isoformat() of an aware datetime");
  t.same(celery.body, goldBody, "[args, kwargs, {callbacks, errbacks, chain (reversed), chord}] as Celery writes it");
  t.same(celery.properties, {
    correlation_id: "a1b2",
    reply_to: "",
    delivery_mode: 2,
    delivery_info: { exchange: "", routing_key: "math" },
    priority: 7,
    body_encoding: "base64",
    delivery_tag: "tag-1",
  });
  t.equal(celery.headers.laminar_group_size, 3, "the size travels in laminar's own header");
  t.same(fromCeleryMessage(celery.headers, JSON.parse(JSON.stringify(celery.body)), celery.properties), message, "and back, whole");
});

t.test("round trips of messages with absent optional fields stay without them", async (t) => {
  const message: TaskMessage = { id: "x", task: "t", args: [], kwargs: {}, queue: "celery", priority: 0, retries: 0, rootId: "x", publishedAt: 5 };
  const celery = toCeleryMessage(message);
  t.same(celery.body[2], { callbacks: null, errbacks: null, chain: null, chord: null });
  t.same(celery.headers.timelimit, [null, null]);
  t.type(celery.properties.delivery_tag, "string");
  t.same(fromCeleryMessage(celery.headers, celery.body, celery.properties), message);
});

t.test("what is not a protocol 2 task message is refused", async (t) => {
  t.throws(() => fromCeleryMessage({}, [[], {}, {}]), CeleryProtocolError, "protocol 1: no task header");
  t.throws(() => fromCeleryMessage({ task: "t", id: "" }, [[], {}, {}]), CeleryProtocolError);
  t.throws(() => fromCeleryMessage({ task: "t", id: "i" }, { args: [] }), CeleryProtocolError, "a body that is not a list");
  t.throws(() => fromCeleryMessage({ task: "t", id: "i" }, [{}, {}]), CeleryProtocolError, "args not a list");
  t.same(fromCeleryMessage({ task: "t", id: "i" }, [[], {}]).args, [], "a body without the embed is fine");
});

t.test("signatures: unfrozen ones get an id; numeric expires are seconds from now", async (t) => {
  const sig = fromCelerySignature({ task: "a", args: [1], kwargs: {}, options: { expires: 10, priority: 2, countdown: 3 } }, now);
  t.type(sig.id, "string");
  t.ok(sig.id.length > 0);
  t.same(sig.options, { expires: now() + 10_000, priority: 2, countdown: 3 });
  t.same(fromCelerySignature({ task: "a" }).args, [], "missing args");
});

t.test("ISO times", async (t) => {
  t.equal(parseIso("2030-01-02T03:04:05"), Date.UTC(2030, 0, 2, 3, 4, 5), "no offset: UTC");
  t.equal(parseIso("2030-01-02T05:04:05+02:00"), Date.UTC(2030, 0, 2, 3, 4, 5), "an offset");
  t.equal(parseIso("2030-01-02 03:04:05.999999Z"), Date.UTC(2030, 0, 2, 3, 4, 5, 999), "microseconds cut, space separator");
  t.equal(parseIso("tomorrow"), undefined);
  t.equal(parseIso(17), undefined);
  t.equal(parseIso(null), undefined);
});
