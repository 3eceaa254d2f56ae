import { test, expect, Page } from "@playwright/test";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { PHONE, hydrated, signIn, serviceWorkerReady, startedFrom } from "./helpers";

async function fillLead(page: Page, company: string) {
  await page.locator('input[name="company"]').fill(company);
  await page.locator('input[name="industry"]').fill("汽车零部件");
  await page.locator('input[name="contact_name"]').fill("周海涛");
  await page.locator('input[name="phone"]').fill("13612345678");
  await page.locator('select[name="source"]').selectOption("referral");
  await page.locator('select[name="grade"]').selectOption("A");
}

test("after one online visit the app opens with no network, takes a lead, a visit and a ticket, and they reach the supervisor", async ({
  browser,
}) => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));

  // One online visit: signed in, synced, the service worker installed.
  await signIn(page, "rep1");
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
  await serviceWorkerReady(page);

  // No network at all, and a reload: the cached shell opens the app, which
  // renders from the local store for the user last signed in here.
  await context.setOffline(true);
  await page.reload();
  await hydrated(page);
  expect(await startedFrom(page)).toBe("shell");
  await expect(page.getByTestId("who")).toBeVisible();
  await expect(page.getByTestId("sync-status")).toContainText("离线");
  await expect(page.getByTestId("record-card").first()).toBeVisible();
  await page.screenshot({ path: "output/offline-shell-leads-390.png" });
  // Signing out needs the server: offline the rep stays signed in and is told why.
  await page.getByTestId("sign-out").click();
  await expect(page.getByTestId("sign-out-failed")).toContainText("需要联网");
  await expect(page.getByTestId("who")).toBeVisible();

  const stamp = Date.now();
  const company = `断网新建精工有限公司 ${stamp}`;
  await page.getByTestId("new-record").click();
  await fillLead(page, company);
  await page.getByTestId("save-record").click();
  await expect(page.getByTestId("saved-on-device")).toBeVisible();

  // Another route opened straight from the address bar, still offline.
  await page.goto("/visits/new");
  await hydrated(page);
  expect(await startedFrom(page)).toBe("shell");
  const visitCustomer = `断网拜访客户 ${stamp}`;
  await page.locator('input[name="customer_name"]').fill(visitCustomer);
  await page.locator('textarea[name="purpose"]').fill("交付前现场确认");
  await page.getByTestId("save-record").click();
  await expect(page.getByTestId("saved-on-device")).toBeVisible();

  await page.goto("/tickets/new");
  await hydrated(page);
  const ticketCustomer = `断网工单客户 ${stamp}`;
  await page.locator('input[name="customer_name"]').fill(ticketCustomer);
  await page.locator('select[name="channel"]').selectOption("visit");
  await page.locator('select[name="ticket_type"]').selectOption("repair");
  await page.locator('textarea[name="description"]').fill("主轴异响");
  await page.getByTestId("save-record").click();
  await expect(page.getByTestId("saved-on-device")).toBeVisible();
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "3");

  // Reloaded again, offline: all three are there, marked as not yet synced.
  await page.goto("/");
  await hydrated(page);
  const lead = page.getByTestId("record-card").filter({ hasText: company });
  await expect(lead).toBeVisible();
  await expect(lead).toContainText("待同步");
  await page.screenshot({ path: "output/offline-shell-saved-390.png" });
  await page.goto("/visits");
  await expect(page.getByTestId("record-card").filter({ hasText: visitCustomer })).toBeVisible();
  await page.goto("/tickets");
  await expect(page.getByTestId("record-card").filter({ hasText: ticketCustomer })).toBeVisible();
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "3");

  // The network returns: the outbox drains.
  await context.setOffline(false);
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "0");
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
  expect(errors).toEqual([]);

  // rep1's supervisor, in another browser, finds all three.
  const supervisor = await browser.newContext({ viewport: PHONE });
  const supPage = await supervisor.newPage();
  await signIn(supPage, "sup1");
  await expect(supPage.getByTestId("record-card").filter({ hasText: company })).toBeVisible();
  await supPage.getByTestId("nav").getByText("拜访记录").click();
  await expect(supPage.getByTestId("record-card").filter({ hasText: visitCustomer })).toBeVisible();
  await supPage.getByTestId("nav").getByText("售后工单").click();
  await expect(supPage.getByTestId("record-card").filter({ hasText: ticketCustomer })).toBeVisible();
});

test("the cached shell holds no one's data, and old build files are never answered with HTML", async ({ page, request }) => {
  const shell = await request.get("/shell.html");
  expect(shell.ok()).toBeTruthy();
  const html = await shell.text();
  expect(html).toContain("data-fb-shell");
  expect(html).not.toMatch(/rep1|李|王|有限公司/);
  expect(shell.headers()["cache-control"]).toBe("no-cache");

  const missing = await request.get("/pkg/fieldbook.AAAAAAAAAAAAAAAAAAAAAA.wasm");
  expect(missing.status()).toBe(404);
  expect(missing.headers()["content-type"] ?? "").not.toContain("text/html");

  const worker = await request.get("/sw.js");
  expect(worker.ok()).toBeTruthy();
  expect(await worker.text()).toContain("shell.html");
  // Before any worker, a page of the app is the server's, hydrated.
  await signIn(page, "rep2");
  expect(await startedFrom(page)).toBe("server");
});

/** A proxy in front of the server that, once `holdPages` is set, never
 * answers a page navigation (a signal too weak to load a page) while
 * everything else passes through. */
async function weakSignalProxy(target: string) {
  const state = { holdPages: false, held: [] as http.ServerResponse[] };
  const server = http.createServer((req, res) => {
    if (state.holdPages && req.headers["sec-fetch-mode"] === "navigate") {
      state.held.push(res);
      return;
    }
    // Like a reverse proxy in front of the server, it addresses the server
    // by its own public URL (which is all the server answers).
    const upstreamUrl = new URL(req.url ?? "/", target);
    const headers = { ...req.headers, host: upstreamUrl.host };
    if (headers.origin) headers.origin = upstreamUrl.origin;
    const upstream = http.request(upstreamUrl, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    close: () => {
      state.held.forEach((res) => res.destroy());
      server.closeAllConnections();
      server.close();
    },
  };
}

test("on a signal too weak to load a page, the app opens from the shell and still syncs", async ({ browser, baseURL }) => {
  const proxy = await weakSignalProxy(baseURL!);
  try {
    const context = await browser.newContext({ baseURL: proxy.url, viewport: PHONE, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await signIn(page, "rep2");
    await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
    await serviceWorkerReady(page);

    // Pages now never arrive; the API still answers. The worker does not
    // wait for one: every open starts from the shell at once, and never
    // asks the network for the page.
    proxy.state.holdPages = true;
    await page.reload();
    await hydrated(page);
    expect(await startedFrom(page)).toBe("shell");
    expect(proxy.state.held.length).toBe(0);
    await expect(page.getByTestId("who")).toBeVisible();
    await expect(page.getByTestId("record-card").first()).toBeVisible();
    // The rep works on: a new lead is saved on the phone and reaches the
    // server through the same weak link.
    const company = `弱信号新建机电有限公司 ${Date.now()}`;
    await page.getByTestId("new-record").click();
    await fillLead(page, company);
    await page.getByTestId("save-record").click();
    await expect(page.getByTestId("saved-on-device")).toBeVisible();
    await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "0");
    await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
    const api = await context.request.post("/api/sync/pull", { data: { request: { cursor: 0 } } });
    expect(JSON.stringify(await api.json())).toContain(company);
  } finally {
    proxy.close();
  }
});
