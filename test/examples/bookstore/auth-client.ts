/**
 * Logging in to the bookstore from tests: the users and key the tests create it with, a token
 * fetched through `POST /token` (in-process or over a socket), and a TestClient that sends it on
 * every write.
 */
import { request } from "undici";
import { TestClient, type TestRequestOptions, type TestResponse } from "../../../lib/test-client.js";
import type { App } from "../../../lib/app.js";
import type { UserSeed } from "../../../examples/bookstore/users.js";

/** The signing key of test bookstores (32+ bytes). */
export const TOKEN_KEY = "test-key-that-is-at-least-32-bytes-long";
/** A user who may write. */
export const WRITER: Required<UserSeed> = { username: "writer", password: "writer's password: pass:word", scopes: ["books:write"] };
/** A user with no scopes. */
export const READER: Required<UserSeed> = { username: "reader", password: "reader-password", scopes: [] };
/** Options for createBookstore that tests share. */
export const AUTH_OPTIONS = { tokenKey: TOKEN_KEY, users: [WRITER, READER] };

/** The urlencoded password form. */
export function passwordForm(username: string, password: string, scope?: string): string {
  const form = new URLSearchParams({ grant_type: "password", username, password });
  if (scope !== undefined) form.set("scope", scope);
  return form.toString();
}

export const FORM_HEADERS = { "content-type": "application/x-www-form-urlencoded" };

/** Logs in in-process; throws unless the token endpoint answers 200. */
export async function tokenOf(client: TestClient, user: UserSeed = WRITER): Promise<string> {
  const res = await client.post("/token", { headers: FORM_HEADERS, body: passwordForm(user.username, user.password) });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return res.json<{ access_token: string }>().access_token;
}

/** Logs in over a socket. */
export async function tokenOver(url: string, user: UserSeed = WRITER): Promise<string> {
  const res = await request(`${url}/token`, { method: "POST", headers: FORM_HEADERS, body: passwordForm(user.username, user.password) });
  const body = (await res.body.json()) as { access_token?: string };
  if (res.statusCode !== 200 || body.access_token === undefined) throw new Error(`login failed: ${res.statusCode}`);
  return body.access_token;
}

/** A TestClient that sends `Authorization: Bearer <token>` on POST, PUT and DELETE unless told otherwise. */
export class WriterClient extends TestClient {
  token = "";

  constructor(app: App) {
    super(app);
  }

  /** Starts the app and logs in as `user`. */
  async login(user: UserSeed = WRITER): Promise<this> {
    this.token = await tokenOf(this, user);
    return this;
  }

  private withToken(options: TestRequestOptions = {}): TestRequestOptions {
    if (this.token === "" || Array.isArray(options.headers) || options.headers?.authorization !== undefined) return options;
    return { ...options, headers: { ...options.headers, authorization: `Bearer ${this.token}` } };
  }

  override post(path: string, options?: TestRequestOptions): Promise<TestResponse> {
    return path === "/token" ? super.post(path, options) : super.post(path, this.withToken(options));
  }

  override put(path: string, options?: TestRequestOptions): Promise<TestResponse> {
    return super.put(path, this.withToken(options));
  }

  override delete(path: string, options?: TestRequestOptions): Promise<TestResponse> {
    return super.delete(path, this.withToken(options));
  }
}
