/**
 * Chat rooms: who is in which room, and sending to all of them.
 *
 * State lives in this process's memory, so it is per worker: under several workers two clients
 * of the same room may land on different workers and not see each other. A deployment with
 * workers keeps rooms in a shared broker (Redis pub/sub); this example stays in one process.
 *
 * @module
 */
import type { WebSocketConnection } from "../../lib/index.js";

/** One connected member of a room. */
export interface Member {
  readonly name: string;
  readonly ws: WebSocketConnection;
}

/** What the server sends to clients, as JSON text messages. */
export type ChatEvent =
  | { type: "join"; name: string; members: string[] }
  | { type: "leave"; name: string; members: string[] }
  | { type: "message"; name: string; text: string };

/** The rooms of one chat server. */
export class ChatRooms {
  private readonly rooms = new Map<string, Map<string, Member>>();

  /** Whether `name` is taken in `room`. */
  has(room: string, name: string): boolean {
    return this.rooms.get(room)?.has(name) ?? false;
  }

  /** Adds a member; the caller checked the name is free. */
  join(room: string, member: Member): void {
    let members = this.rooms.get(room);
    if (members === undefined) this.rooms.set(room, (members = new Map()));
    members.set(member.name, member);
  }

  /** Removes a member; an empty room disappears. */
  leave(room: string, name: string): void {
    const members = this.rooms.get(room);
    if (members === undefined) return;
    members.delete(name);
    if (members.size === 0) this.rooms.delete(room);
  }

  /** Member names of a room, in joining order. */
  members(room: string): string[] {
    return [...(this.rooms.get(room)?.keys() ?? [])];
  }

  /** Every room with its member count. */
  list(): Array<{ room: string; members: number }> {
    return [...this.rooms].map(([room, members]) => ({ room, members: members.size }));
  }

  /**
   * Sends `event` to every member of `room`, concurrently: one slow member's backpressure delays
   * only this broadcast's completion, and a member that has gone is skipped by its connection.
   */
  async broadcast(room: string, event: ChatEvent): Promise<void> {
    const members = this.rooms.get(room);
    if (members === undefined) return;
    const text = JSON.stringify(event);
    await Promise.allSettled([...members.values()].map((member) => member.ws.sendText(text)));
  }
}
