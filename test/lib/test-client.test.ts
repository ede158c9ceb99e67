import t from "tap";
import { TestClient, type EventApp } from "../../lib/index.js";

const respond =
  (...events: Array<Parameters<Parameters<EventApp>[2]>[0]>): EventApp =>
  async (_scope, _receive, send) => {
    for (const event of events) await send(event);
  };

t.test("the client enforces the response protocol like a server", async (t) => {
  await t.rejects(
    new TestClient(respond({ type: "http.response.body", body: "x" })).get("/"),
    /expected http.response.start, got http.response.body/,
  );
  await t.rejects(
    new TestClient(
      respond({ type: "http.response.start", status: 200, headers: [] }, { type: "http.response.start", status: 200, headers: [] }),
    ).get("/"),
    /expected http.response.body, got http.response.start/,
  );
  await t.rejects(
    new TestClient(
      respond(
        { type: "http.response.start", status: 200, headers: [] },
        { type: "http.response.body", body: "" },
        { type: "http.response.body", body: "" },
      ),
    ).get("/"),
    /got http.response.body/,
  );
  await t.rejects(new TestClient(respond()).get("/"), /without completing/);
  const quiet = await new TestClient(respond(), { raiseServerExceptions: false }).get("/");
  t.equal(quiet.status, 500, "unanswered request becomes a 500 when exceptions are not raised");
});

t.test("the scope the client builds", async (t) => {
  let seen: unknown;
  const app: EventApp = async (scope, receive, send) => {
    seen = scope;
    const first = await receive();
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: first.type === "http.request" ? first.body : "" });
  };
  const res = await new TestClient(app).post("/a%20b/c?x=1", { body: "payload", query: { y: [2, 3] }, headers: { "X-A": "1" } });
  t.equal(res.text, "payload");
  t.match(seen, {
    type: "http",
    method: "POST",
    path: "/a b/c",
    rawPath: "/a%20b/c",
    queryString: "x=1&y=2&y=3",
    httpVersion: "1.1",
    rootPath: "",
  });
  t.strictSame((seen as { headers: Array<[string, string]> }).headers.find(([n]) => n === "x-a"), ["x-a", "1"]);
});

t.test("receive yields a disconnect after the body when asked", async (t) => {
  const events: string[] = [];
  const app: EventApp = async (_scope, receive, send) => {
    events.push((await receive()).type);
    events.push((await receive()).type);
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "" });
  };
  await new TestClient(app).post("/", { body: "x", disconnect: true });
  t.strictSame(events, ["http.request", "http.disconnect"]);
});
