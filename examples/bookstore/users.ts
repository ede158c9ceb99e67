/**
 * The bookstore's users: name, scrypt password hash and granted scopes, in the `users` table.
 *
 * There is no sign-up route: users are seeded at startup, from `createBookstore({ users })` or
 * from `BOOKSTORE_DEMO_USER=name:password` (never a built-in default password).
 *
 * @module
 */
import type BetterSqlite3 from "better-sqlite3";
import { inject, injectable } from "../../layers/di/decorators.js";
import { hashPassword, verifyPassword } from "../../lib/security/password-hash.js";
import { BookstoreDatabase } from "./database.js";

/** A user to create at startup. */
export interface UserSeed {
  username: string;
  password: string;
  /** Scopes the user may be granted; default `["books:write"]`. */
  scopes?: string[];
}

/** A user as stored. */
export interface StoredUser {
  username: string;
  passwordHash: string;
  scopes: string[];
}

interface UserRow {
  username: string;
  password_hash: string;
  scopes: string;
}

/** Parses `BOOKSTORE_DEMO_USER` (`name:password`, split at the first colon); undefined when unset or malformed. */
export function demoUserFrom(env: string | undefined): UserSeed | undefined {
  if (env === undefined) return undefined;
  const colon = env.indexOf(":");
  if (colon <= 0 || colon === env.length - 1) return undefined;
  return { username: env.slice(0, colon), password: env.slice(colon + 1) };
}

/** Stores `seeds` (hashing each password), replacing users of the same name. Runs at startup. */
export async function seedUsers(db: BookstoreDatabase, seeds: readonly UserSeed[]): Promise<void> {
  const rows = await Promise.all(
    seeds.map(async (seed) => [seed.username, await hashPassword(seed.password), JSON.stringify(seed.scopes ?? ["books:write"])] as const),
  );
  const upsert = db.writer.prepare("INSERT INTO users (username, password_hash, scopes) VALUES (?, ?, ?) ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, scopes = excluded.scopes");
  db.writer.transaction(() => rows.forEach((row) => upsert.run(...row)))();
}

// Verified against when the user does not exist, so that a wrong name takes as long as a wrong password.
let dummyHash: Promise<string> | undefined;

/** Reads users; authenticates a name and password. */
@injectable()
export class UserRepository {
  private readonly byName: BetterSqlite3.Statement<[string], UserRow>;

  constructor(@inject(BookstoreDatabase) db: BookstoreDatabase) {
    this.byName = db.reader.prepare("SELECT username, password_hash, scopes FROM users WHERE username = ?");
  }

  find(username: string): StoredUser | undefined {
    const row = this.byName.get(username);
    return row === undefined ? undefined : { username: row.username, passwordHash: row.password_hash, scopes: JSON.parse(row.scopes) as string[] };
  }

  /** The user when the password is theirs; undefined otherwise (same work either way). */
  async authenticate(username: string, password: string): Promise<StoredUser | undefined> {
    const user = this.find(username);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await (dummyHash ??= hashPassword("not anyone's password"))));
    return ok && user !== undefined ? user : undefined;
  }
}
