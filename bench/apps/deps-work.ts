/**
 * The work behind `GET /deps`, shared by every JavaScript contender: three nested dependencies —
 * a request-scoped service (`RequestLog`, one per request), a function dependency (`currentUser`)
 * and its sub-dependency (`settings`). laminar resolves them through its DI layer; the contenders
 * without DI call the same functions by hand, in the same order, once per request.
 *
 * The answer is always `{"user":"user-42","role":"admin","logged":1}`.
 *
 * @module
 */

/** The sub-dependency: settings the user lookup needs. */
export interface Settings {
  userPrefix: string;
  role: string;
}

/** The user the function dependency resolves. */
export interface User {
  id: number;
  name: string;
  role: string;
}

/** The sub-dependency's factory. */
export function settings(): Settings {
  return { userPrefix: "user-", role: "admin" };
}

/** The function dependency's factory, given its sub-dependency. */
export function currentUser(config: Settings): User {
  return { id: 42, name: `${config.userPrefix}42`, role: config.role };
}

/** The request-scoped service: a fresh log for each request. */
export class RequestLog {
  readonly entries: string[] = [];

  /** Records one entry. */
  add(entry: string): void {
    this.entries.push(entry);
  }
}

/** What the `GET /deps` handler does with its three dependencies. */
export function depsAnswer(user: User, log: RequestLog): { user: string; role: string; logged: number } {
  log.add("GET /deps");
  return { user: user.name, role: user.role, logged: log.entries.length };
}

/** The same work by hand, for a contender without DI: settings → user, a request log, the handler. */
export function depsByHand(): { user: string; role: string; logged: number } {
  return depsAnswer(currentUser(settings()), new RequestLog());
}
