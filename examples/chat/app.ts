/**
 * The chat example: rooms with broadcast over WebSockets.
 *
 * - `GET /` — a small page to try it in a browser;
 * - `GET /rooms` — the open rooms and how many are in each;
 * - `WS /ws/rooms/{room}?name=…` — join a room: every text message you send is broadcast to the
 *   room as `{"type":"message","name","text"}`; joins and leaves are announced.
 *
 * The handshake is checked before it is accepted: a malformed room or name is a 422, a name
 * already in the room a 409 (both real HTTP answers to the upgrade request).
 *
 * @module
 */
import { App, HttpException, Type, type Logger } from "../../lib/index.js";
import { HTMLResponse } from "../../lib/index.js";
import { ChatRooms } from "./rooms.js";
import { CHAT_PAGE } from "./page.js";

/** Options of {@link createChat}. */
export interface ChatOptions {
  logger?: Logger;
  server?: "node" | "uws";
  /** Longest accepted chat message, in characters. Default 1000. */
  maxMessageLength?: number;
}

const RoomParams = Type.Object({ room: Type.String({ pattern: "^[a-z0-9-]{1,32}$" }) });
const JoinQuery = Type.Object({ name: Type.String({ minLength: 1, maxLength: 32 }) });

/** Builds the chat app (not listening). */
export function createChat(options: ChatOptions = {}): App {
  const app = new App({ logger: options.logger, server: options.server });
  const rooms = new ChatRooms();
  const maxLength = options.maxMessageLength ?? 1000;

  app.get("/", () => new HTMLResponse(CHAT_PAGE));
  app.get("/rooms", () => rooms.list());

  app.websocket("/ws/rooms/{room}", { params: RoomParams, query: JoinQuery }, async ({ ws, params, query }) => {
    const { room } = params;
    const { name } = query;
    if (rooms.has(room, name)) throw new HttpException(409, `"${name}" is already in room ${room}`);
    await ws.accept();
    rooms.join(room, { name, ws });
    try {
      await rooms.broadcast(room, { type: "join", name, members: rooms.members(room) });
      for await (const message of ws) {
        if (typeof message !== "string") continue; // the protocol is text; binary frames are ignored
        const text = message.slice(0, maxLength);
        await rooms.broadcast(room, { type: "message", name, text });
      }
    } finally {
      rooms.leave(room, name);
      await rooms.broadcast(room, { type: "leave", name, members: rooms.members(room) });
    }
  });
  return app;
}
