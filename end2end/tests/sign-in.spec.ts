import { expect, test } from "@playwright/test";
import { PHONE, hydrated } from "./helpers";

// On a weak signal a rep taps "登录" before the page's script has arrived:
// the form itself must post (never a GET that puts the password in the
// URL), and the server signs in and redirects.
test.describe("the sign-in form without script", () => {
  test.use({ javaScriptEnabled: false, viewport: PHONE });

  test("posts, signs in, and never puts the password in a URL", async ({ page }) => {
    const urls: string[] = [];
    page.on("request", (request) => urls.push(request.url()));

    await page.goto("/login");
    await page.getByLabel("用户名").fill("rep1");
    await page.getByLabel("密码").fill("wrong-password");
    await page.getByRole("button", { name: "登录" }).click();
    await expect(page).toHaveURL(/\/login\?error=bad_credentials$/);
    await expect(page.getByRole("alert")).toHaveText("用户名或密码错误。");
    await page.screenshot({ path: "output/sign-in-no-script-error-390.png" });

    await page.getByLabel("用户名").fill("rep1");
    await page.getByLabel("密码").fill("demo1234");
    await page.getByRole("button", { name: "登录" }).click();
    await expect(page).toHaveURL(/\/$/);
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => c.name)).toContain("fb_session");
    for (const url of urls) {
      expect(url).not.toContain("demo1234");
      expect(url).not.toContain("wrong-password");
      expect(url).not.toContain("password=");
    }
  });
});

// A first visit on a weak signal: the sign-in page is usable from its HTML
// and style alone, runs none of the app's wasm, and fetches the app's files
// in the background for the page that follows.
test("a first visit's sign-in page works before and without the app, and the app follows", async ({ page }) => {
  await page.setViewportSize(PHONE);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/login");
  await expect(page.getByRole("button", { name: "登录" })).toBeVisible();
  const prefetched = await page.locator('link[rel="prefetch"]').evaluateAll((links) =>
    links.map((link) => (link as HTMLLinkElement).getAttribute("href")),
  );
  expect(prefetched).toHaveLength(2);
  expect(prefetched[0]).toMatch(/^\/pkg\/.+\.js$/);
  expect(prefetched[1]).toMatch(/^\/pkg\/.+\.wasm$/);
  await page.waitForLoadState("load");
  expect(await page.evaluate(() => (window as any).__fieldbook_hydrated)).toBeUndefined();
  await page.screenshot({ path: "output/sign-in-first-visit-390.png" });

  // The language switch works without the app, and back.
  await page.getByTestId("switch-language").click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await expect(page.getByTestId("switch-language")).toHaveText("中文");
  await page.getByTestId("switch-language").click();
  await expect(page.getByRole("button", { name: "登录" })).toBeVisible();

  await page.getByLabel("用户名").fill("rep1");
  await page.getByLabel("密码").fill("demo1234");
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page).toHaveURL(/\/$/);
  await hydrated(page);
  await expect(page.getByTestId("who")).toBeVisible();
  await expect(page.getByTestId("record-card").first()).toBeVisible();
  // What was prefetched is exactly what the app's page loads.
  const loaded = await page.evaluate(() => [
    document.querySelector('link[rel="modulepreload"]')?.getAttribute("href"),
    document.querySelector('link[rel="preload"][href$=".wasm"]')?.getAttribute("href"),
  ]);
  expect(loaded).toEqual(prefetched);
  expect(errors).toEqual([]);
});

// WebKit (Safari, every browser on iOS) ignores `<link rel="prefetch">`:
// there the sign-in page fetches the app's files itself.
test("where the browser ignores prefetch, the sign-in page fetches the app's files itself", async ({ page }) => {
  await page.addInitScript(() => {
    const supports = DOMTokenList.prototype.supports;
    DOMTokenList.prototype.supports = function (token: string) {
      return token === "prefetch" ? false : supports.call(this, token);
    };
  });
  const fetched = page.waitForRequest(
    (request) => request.url().endsWith(".wasm") && request.resourceType() === "fetch",
    { timeout: 15_000 },
  );
  await page.goto("/login");
  await fetched;
  expect(await page.evaluate(() => (window as any).__fieldbook_hydrated)).toBeUndefined();
});

// A rep who taps "登录" before the app's files have arrived waits on the
// sign-in page until they have: the next page then takes them from the
// cache instead of fetching them a second time beside the prefetch (the
// release build's bytes: docs/benchmarks.md).
test("a sign-in tapped before the app's files have arrived is posted once they have", async ({ page }) => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  // Slow enough that the (debug, unoptimised) wasm takes seconds.
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 20,
    downloadThroughput: 40_000_000 / 8,
    uploadThroughput: 10_000_000 / 8,
  });
  let prefetchedAt = 0;
  let postedAt = 0;
  page.on("requestfinished", (request) => {
    if (request.url().endsWith(".wasm") && request.headers()["sec-purpose"] === "prefetch") prefetchedAt = Date.now();
  });
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === "/login") postedAt = Date.now();
  });
  await page.goto("/login", { waitUntil: "load" });
  await page.getByLabel("用户名").fill("rep1");
  await page.getByLabel("密码").fill("demo1234");
  expect(await page.locator("link[data-arrived]").count()).toBeLessThan(2);
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.getByRole("button", { name: "登录" })).toBeDisabled();
  await expect(page).toHaveURL(/\/$/, { timeout: 30_000 });
  await hydrated(page);
  await expect(page.getByTestId("who")).toBeVisible();
  expect(prefetchedAt).toBeGreaterThan(0);
  expect(postedAt).toBeGreaterThanOrEqual(prefetchedAt);
});
