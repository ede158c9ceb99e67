/**
 * The bookstore's users: name, scrypt password hash and granted scopes, in the `users` table
 * (`UserRepository` in `store/contracts.ts`).
 *
 * There is no sign-up route: users are seeded at startup, from `createBookstore({ users })` or
 * from `BOOKSTORE_DEMO_USER=name:password` (never a built-in default password).
 *
 * @module
 */
import { hashPassword, verifyPassword } from "../../lib/security/password-hash.js";
import type { BookstoreStore, StoredUser, UserRepository } from "./store/contracts.js";
import { inTransaction } from "./dependencies.js";

export type { StoredUser } from "./store/contracts.js";

/** A user to create at startup. */
export interface UserSeed {
  username: string;
  password: string;
  /** Scopes the user may be granted; default `["books:write"]`. */
  scopes?: string[];
}

/** Parses `BOOKSTORE_DEMO_USER` (`name:password`, split at the first colon); undefined when unset or malformed. */
export function demoUserFrom(env: string | undefined): UserSeed | undefined {
  if (env === undefined) return undefined;
  const colon = env.indexOf(":");
  if (colon <= 0 || colon === env.length - 1) return undefined;
  return { username: env.slice(0, colon), password: env.slice(colon + 1) };
}

/** Stores `seeds` (hashing each password) in one transaction, replacing users of the same name. Runs at startup. */
export async function seedUsers(store: BookstoreStore, seeds: readonly UserSeed[]): Promise<void> {
  if (seeds.length === 0) return;
  const users = await Promise.all(
    seeds.map(async (seed): Promise<StoredUser> => ({ username: seed.username, passwordHash: await hashPassword(seed.password), scopes: seed.scopes ?? ["books:write"] })),
  );
  await inTransaction(store, async (tx) => {
    for (const user of users) await store.users.save(tx, user);
  });
}

// Verified against when the user does not exist, so that a wrong name takes as long as a wrong password.
let dummyHash: Promise<string> | undefined;

/** The user when the password is theirs; undefined otherwise (the same work either way). */
export async function authenticate(users: UserRepository, username: string, password: string): Promise<StoredUser | undefined> {
  const user = await users.find(username);
  const ok = await verifyPassword(password, user?.passwordHash ?? (await (dummyHash ??= hashPassword("not anyone's password"))));
  return ok && user !== undefined ? user : undefined;
}
