import { test, expect, Page } from "@playwright/test";
import { PHONE, hydrated, signIn } from "./helpers";

async function fillLead(page: Page, company: string) {
  await page.locator('input[name="company"]').fill(company);
  await page.locator('input[name="industry"]').fill("机械制造");
  await page.locator('input[name="contact_name"]').fill("陈志强");
  await page.locator('input[name="phone"]').fill("13912345678");
  await page.locator('select[name="source"]').selectOption("trade_show");
  await page.locator('select[name="grade"]').selectOption("B");
}

test("a lead saved offline waits in the outbox, survives a reload and syncs when the network returns", async ({
  browser,
}) => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, "rep3");
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
  await page.getByTestId("new-record").click();
  await hydrated(page);

  // No network: the lead is committed on the device and shown as waiting.
  await context.setOffline(true);
  await expect(page.getByTestId("sync-status")).toContainText("离线");
  const company = `离线录入工业有限公司 ${Date.now()}`;
  await fillLead(page, company);
  await page.getByTestId("save-record").click();
  await expect(page.getByTestId("saved-on-device")).toBeVisible();
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "1");
  await page.screenshot({ path: "output/offline-saved-390.png" });

  // The network is back but uploads fail: nothing is lost across a reload.
  await page.route("**/api/sync/push", (route) => route.abort());
  await context.setOffline(false);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "1");
  await expect(page.getByTestId("sync-status")).toContainText("同步失败");

  // Uploads work again: the outbox drains and the lead is on the server.
  await page.unroute("**/api/sync/push");
  await page.getByTestId("sync-now").click();
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "0");
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步");

  // The supervisor of rep3's team finds it from another browser.
  const supervisor = await browser.newContext({ viewport: PHONE });
  const supPage = await supervisor.newPage();
  await signIn(supPage, "sup1");
  await expect(supPage.getByTestId("record-card").filter({ hasText: company })).toBeVisible();
});

test("the outbox outlives an expired session, is never sent by another user, and syncs when its owner signs in again", async ({
  browser,
}) => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, "rep5");
  await page.getByTestId("new-record").click();
  await hydrated(page);
  await context.setOffline(true);
  const company = `会话过期测试有限公司 ${Date.now()}`;
  await fillLead(page, company);
  await page.getByTestId("save-record").click();
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "1");

  // The session expires while offline; back online the push is refused and kept.
  await context.clearCookies();
  await context.setOffline(false);
  await expect(page.getByTestId("sync-status")).toContainText("请先登录");
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "1");

  // Another rep signs in on the same phone: nothing of rep5's is theirs.
  await signIn(page, "rep6");
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
  await expect(page.getByText(company)).toHaveCount(0);
  await page.getByTestId("sign-out").click();
  await expect(page.getByRole("heading", { name: "登录" })).toBeVisible();

  // rep5 again: the outbox drains and the lead is there.
  await signIn(page, "rep5");
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "0");
  // The list comes from this device's store, now holding the synced lead.
  await page.reload();
  await expect(page.getByTestId("record-card").filter({ hasText: company })).toBeVisible();
});

test("a visit and a service ticket entered offline sync like leads", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, "rep2");
  await page.getByTestId("nav").getByText("拜访记录").click();
  await expect(page.getByRole("heading", { name: "拜访记录" })).toBeVisible();
  await page.getByTestId("new-record").click();
  await expect(page.getByRole("heading", { name: "新增拜访" })).toBeVisible();

  await context.setOffline(true);
  await page.getByTestId("save-record").click();
  await expect(page.locator('[data-field="customer_name"]')).toHaveText("必填");
  await expect(page.locator('[data-field="purpose"]')).toHaveText("必填");
  const customer = `拜访客户 ${Date.now()}`;
  await page.locator('input[name="customer_name"]').fill(customer);
  await page.locator('textarea[name="purpose"]').fill("了解产线改造需求");
  await page.locator('input[name="met_name"]').fill("王建国");
  await page.getByTestId("save-record").click();
  await expect(page.getByTestId("saved-on-device")).toBeVisible();
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "1");
  await page.screenshot({ path: "output/visit-offline-390.png", fullPage: true });

  await context.setOffline(false);
  await expect(page).toHaveURL(/\/visits$/);
  await expect(page.getByTestId("record-card").filter({ hasText: customer })).toBeVisible();
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "0");
  await page.getByTestId("nav").getByText("设置").click();
  await expect(page.getByTestId("store-size")).toContainText("MB");

  // A technician opens a ticket; the service agent's device pulls it.
  const tech = await browser.newContext({ viewport: PHONE });
  const techPage = await tech.newPage();
  await signIn(techPage, "tech1");
  await techPage.goto("/tickets/new");
  await hydrated(techPage);
  await tech.setOffline(true);
  const ticketCustomer = `工单客户 ${Date.now()}`;
  await techPage.locator('input[name="customer_name"]').fill(ticketCustomer);
  await techPage.locator('select[name="channel"]').selectOption("hotline");
  await techPage.locator('select[name="ticket_type"]').selectOption("repair");
  await techPage.locator('textarea[name="description"]').fill("液压系统漏油");
  await techPage.getByTestId("save-record").click();
  await expect(techPage.getByTestId("pending")).toHaveAttribute("data-pending", "1");
  await tech.setOffline(false);
  await expect(techPage.getByTestId("pending")).toHaveAttribute("data-pending", "0");

  const agent = await browser.newContext({ viewport: PHONE });
  const agentPage = await agent.newPage();
  await signIn(agentPage, "agent1");
  await agentPage.goto("/tickets");
  await expect(agentPage.getByTestId("record-card").filter({ hasText: ticketCustomer })).toBeVisible();
  await expect(agentPage.getByTestId("record-card").filter({ hasText: ticketCustomer })).toContainText("维修");
  await agentPage.screenshot({ path: "output/tickets-390.png" });
});

test("a lead saved online while a sync is under way says it is syncing, not waiting for a network", async ({
  browser,
}) => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, "rep4");
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
  await page.getByTestId("new-record").click();
  await hydrated(page);
  // The upload is held back: the save is made while the sync is under way.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/api/sync/push", async (route) => {
    await held;
    await route.continue();
  });
  await fillLead(page, `同步中录入有限公司 ${Date.now()}`);
  await page.getByTestId("save-record").click();
  await expect(page.getByTestId("saved-on-device")).toHaveText(/已保存，正在同步/);
  await expect(page.getByTestId("saved-on-device")).not.toContainText("联网后");
  await page.screenshot({ path: "output/saved-while-syncing-390.png" });
  release();
  // Once it has arrived, the form goes back to the list.
  await expect(page).toHaveURL(/\/leads$/);
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "0");
});
