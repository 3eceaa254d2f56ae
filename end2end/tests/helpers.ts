import { APIRequestContext, expect, Page, request } from "@playwright/test";

export const PHONE = { width: 390, height: 844 };
export const DESK = { width: 1440, height: 900 };

/** Waits until the wasm app has hydrated the page. */
export async function hydrated(page: Page) {
  await page.waitForFunction(() => (window as any).__fieldbook_hydrated === true);
}

/** Signs in as a demo user (password demo1234) through the login form. */
export async function signIn(page: Page, username: string) {
  // A first visit's sign-in page runs no app (its form posts); once the
  // service worker is installed, the app renders it. Either way the form
  // signs in and the next page is the app's.
  await page.goto("/login");
  await page.getByLabel("用户名").fill(username);
  await page.getByLabel("密码").fill("demo1234");
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.getByTestId("who")).toBeVisible();
  // The server renders the signed-in page whole: wait until it is live.
  await hydrated(page);
}

/** Whether the app started by hydrating server HTML or from the offline shell. */
export async function startedFrom(page: Page): Promise<string> {
  return page.evaluate(() => (window as any).__fieldbook_started_from);
}

/** Waits until the service worker has installed and controls the page. */
export async function serviceWorkerReady(page: Page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  const controlled = await page
    .waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10_000 })
    .then(
      () => true,
      () => false,
    );
  if (!controlled) {
    // A document whose navigation began while the worker was still
    // installing, and which became a client only after the worker's
    // clients.claim() had run, stays uncontrolled (a race the Service Worker
    // spec leaves open; it shows under load with the tens-of-MB debug wasm).
    // The worker is active, so the next load of the page is controlled, as
    // a user's next open is.
    await page.reload();
    await hydrated(page);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  }
}

/** Creates `count` records of `entity` through `POST /api/sync/push` as the
 * user signed in on `api`, in batches of at most 1,000; `fields(i)` gives the
 * i-th record. */
export async function pushRecords(api: APIRequestContext, entity: string, count: number, fields: (i: number) => object) {
  for (let start = 0; start < count; start += 1_000) {
    const mutations = Array.from({ length: Math.min(1_000, count - start) }, (_, k) => ({
      id: crypto.randomUUID(),
      entity,
      record_id: crypto.randomUUID(),
      base_version: 0,
      op: "upsert",
      fields: fields(start + k),
    }));
    const pushed = await api.post("/api/sync/push", { data: { batch: { client_id: crypto.randomUUID(), mutations } } });
    expect(pushed.ok()).toBeTruthy();
    const results = (await pushed.json()).results;
    expect(results.filter((r: { status: string }) => r.status === "applied")).toHaveLength(mutations.length);
  }
}

/** Creates `count` leads, as `pushRecords` does. */
export async function pushLeads(api: APIRequestContext, count: number, fields: (i: number) => object) {
  await pushRecords(api, "lead", count, fields);
}

/** A request context signed in as a demo user, for talking the protocol. */
export async function signedInApi(baseURL: string | undefined, username: string): Promise<APIRequestContext> {
  const api = await request.newContext({ baseURL });
  const login = await api.post("/api/auth/login", { data: { username, password: "demo1234" } });
  expect(login.ok()).toBeTruthy();
  return api;
}

/** Syncs now and waits until the outbox is empty and the bar says all is synced. */
export async function syncNow(page: Page) {
  await page.getByTestId("sync-now").click();
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "0");
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
}
