import { test, expect, Page } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { currentBuild, freePort, nextBuild, serve, stop } from "./deploy";
import { PHONE, hydrated, serviceWorkerReady, signIn, startedFrom } from "./helpers";

/** The wasm file this page loaded. */
async function loadedWasm(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .map((e) => new URL(e.name).pathname)
      .filter((p) => p.endsWith(".wasm")),
  );
}

/** The build files the service worker keeps. */
async function precached(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) {
      for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
    }
    return urls.filter((p) => p.startsWith("/pkg/"));
  });
}

test("a second build deployed over the first replaces the cached shell cleanly: the next open is the old build, the one after the new", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fieldbook-redeploy-"));
  const first = currentBuild(path.join(work, "build-1"));
  const second = nextBuild(first, path.join(work, "build-2"));
  expect(second.wasmHash).not.toBe(first.wasmHash);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const database = `sqlite://${work}/fieldbook.db`;

  let server = await serve(first, port, database);
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, baseURL: base });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  try {
    await signIn(page, "rep2");
    await serviceWorkerReady(page);
    await expect.poll(() => precached(page)).toContain(`/pkg/fieldbook.${first.wasmHash}.wasm`);

    // Deploy: the second build takes the first one's place on the same port.
    await stop(server);
    server = await serve(second, port, database);

    // The next open starts at once from the shell this phone keeps, still
    // the first build's, while the worker fetches the new build behind it.
    await page.reload();
    await hydrated(page);
    expect(await startedFrom(page)).toBe("shell");
    expect(await loadedWasm(page)).toEqual([`/pkg/fieldbook.${first.wasmHash}.wasm`]);
    await expect(page.getByTestId("who")).toBeVisible();

    // The worker updates itself: the precache is the new build's, only.
    await expect
      .poll(() => precached(page), { timeout: 30_000 })
      .toContain(`/pkg/fieldbook.${second.wasmHash}.wasm`);
    await expect.poll(() => precached(page)).not.toContain(`/pkg/fieldbook.${first.wasmHash}.wasm`);

    // The open after that is the new build's.
    await page.reload();
    await hydrated(page);
    expect(await startedFrom(page)).toBe("shell");
    expect(await loadedWasm(page)).toEqual([`/pkg/fieldbook.${second.wasmHash}.wasm`]);
    await expect(page.getByTestId("who")).toBeVisible();

    // Offline, the new shell and the new wasm start the app together.
    await context.setOffline(true);
    await page.reload();
    await hydrated(page);
    expect(await startedFrom(page)).toBe("shell");
    expect(await loadedWasm(page)).toEqual([`/pkg/fieldbook.${second.wasmHash}.wasm`]);
    await expect(page.getByTestId("record-card").first()).toBeVisible();
    await context.setOffline(false);

    // An old build's file is a plain 404, never HTML.
    const old = await page.request.get(`${base}/pkg/fieldbook.${first.wasmHash}.wasm`);
    expect(old.status()).toBe(404);
    expect(old.headers()["content-type"] ?? "").not.toContain("text/html");
    expect(errors).toEqual([]);
  } finally {
    await context.close();
    await stop(server);
    fs.rmSync(work, { recursive: true, force: true });
  }
});
