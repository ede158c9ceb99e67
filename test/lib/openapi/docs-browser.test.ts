/**
 * The documentation pages in a real browser: Debian's Chromium (`apt-get install chromium`),
 * driven by playwright-core. /docs renders the bookstore's operations and /redoc its reference,
 * with every request the page makes going to the app itself (none leaves for a CDN or a font
 * host), and Authorize logs in through the password flow so that "Try it out" can write.
 * Skipped, with the reason, where Chromium or playwright-core is missing.
 */
import t from "tap";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createBookstore } from "../../../examples/bookstore/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { AUTH_OPTIONS, WRITER } from "../../examples/bookstore/auth-client.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

type Playwright = typeof import("playwright-core");
let playwright: Playwright | undefined;
let skip: string | false = false;
if (!existsSync(CHROMIUM)) {
  skip = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
} else {
  try {
    playwright = await import("playwright-core");
  } catch (error) {
    skip = `playwright-core is not installed: ${(error as Error).message}`;
  }
}

t.test("Swagger UI and ReDoc render the bookstore in Chromium", { skip, timeout: 50_000 }, async (t) => {
  const app = createBookstore({ logger: silentLogger, databaseFile: join(t.testdir(), "bookstore.db") });
  const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
  t.teardown(() => app.close({ timeout: 1_000 }));
  const browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const outside: string[] = [];
  const failed: string[] = [];
  const errors: string[] = [];
  // Anything not for the app is refused before it leaves: the check must not depend on this machine having no network.
  await page.route("**/*", (route) => {
    const target = route.request().url();
    if (target.startsWith(url) || target.startsWith("data:") || target.startsWith("blob:")) return route.continue();
    outside.push(target);
    return route.abort();
  });
  page.on("requestfailed", (request) => failed.push(request.url()));
  page.on("pageerror", (error) => errors.push(error.message));
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });

  await page.goto(`${url}/docs`);
  await page.waitForSelector(".opblock", { timeout: 20_000 });
  const operations = await page.$$eval(".opblock-summary-path", (nodes) => nodes.map((node) => node.textContent?.replace(/\u200b/g, "").trim()));
  for (const path of ["/health", "/authors", "/books", "/books/{id}", "/books/{id}/cover", "/books/{id}/sales", "/reports/sales", "/reports/{id}", "/token"]) t.ok(operations.includes(path), `Swagger UI lists ${path}`);
  t.equal(await page.locator(".opblock").count(), 13, "every operation of the bookstore");
  t.ok(await page.locator(".swagger-ui .info .title").isVisible(), "the API's title is shown");

  await page.goto(`${url}/redoc`);
  await page.waitForSelector("[role=menuitem], .menu-content", { timeout: 20_000 });
  await page.getByText("/books/{id}").first().waitFor({ timeout: 20_000 });
  t.match(await page.locator("body").innerText(), /books/, "ReDoc renders the operations");
  // ReDoc's sidebar logo comes from cdn.redoc.ly; the page's CSP refuses it before it leaves.
  const refused = consoleErrors.filter((text) => !/image 'https:\/\/cdn\.redoc\.ly\/redoc\/logo-mini\.svg'.*Content Security Policy/.test(text));
  t.same(refused, [], "no console error but the refused logo");

  t.same(outside, [], "no request left for another host");
  t.same(
    failed.filter((target) => target !== "https://cdn.redoc.ly/redoc/logo-mini.svg"),
    [],
    "no request failed (but the logo, refused by the CSP: the route above never even saw it)",
  );
  t.same(errors, [], "no script error on the pages");
});

t.test("Swagger UI's Authorize button logs in through /token, and Try it out then writes", { skip, timeout: 50_000 }, async (t) => {
  const app = createBookstore({ logger: silentLogger, databaseFile: join(t.testdir(), "bookstore.db"), ...AUTH_OPTIONS });
  const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
  t.teardown(() => app.close({ timeout: 1_000 }));
  const browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const tokenRequests: string[] = [];
  page.on("request", (request) => {
    if (request.url() === `${url}/token`) tokenRequests.push(request.postData() ?? "");
  });
  await page.goto(`${url}/docs`);
  await page.waitForSelector(".opblock", { timeout: 20_000 });

  const authorsPost = page.locator(".opblock-post", { has: page.locator(".opblock-summary-path", { hasText: /^\/authors$/ }) });
  const tryWrite = async (): Promise<string> => {
    await authorsPost.locator(".opblock-summary").click();
    // "Try it out" stays switched on once clicked (the button then reads Cancel).
    await authorsPost.locator("button.try-out__btn").first().waitFor();
    const tryOut = authorsPost.locator("button.try-out__btn", { hasText: /^\s*Try it out\s*$/ });
    if ((await tryOut.count()) > 0) await tryOut.click();
    await authorsPost.locator("textarea.body-param__text").fill('{"name":"Written from Swagger UI"}');
    await authorsPost.locator("button.execute").click();
    const status = authorsPost.locator(".live-responses-table tbody .response-col_status").first();
    await status.waitFor({ timeout: 20_000 });
    const text = (await status.innerText()).trim();
    await authorsPost.locator("button.btn-clear").click();
    await authorsPost.locator(".opblock-summary").click();
    return text;
  };

  const before = await tryWrite();
  t.match(before, /^401/, `before logging in, a write is refused (got ${before})`);

  await page.locator(".auth-wrapper .authorize").click();
  const dialog = page.locator(".dialog-ux");
  await dialog.locator("#oauth_username").fill(WRITER.username);
  await dialog.locator("#oauth_password").fill(WRITER.password);
  await dialog.locator(".auth-btn-wrapper .authorize").click();
  await dialog.locator("button", { hasText: /^Logout$/ }).waitFor({ timeout: 20_000 });
  t.match(await dialog.innerText(), /Authorized/, "the dialog says Authorized");
  t.equal(tokenRequests.length, 1, "the dialog posted the password grant to /token");
  t.match(tokenRequests[0], /grant_type=password/, "with the password grant");
  await dialog.locator("button", { hasText: /^Close$/ }).click();

  t.match(await tryWrite(), /^201/, "after Authorize, the same write succeeds with the bearer token");
});
