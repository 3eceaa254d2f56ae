import { test, expect } from "@playwright/test";
import { DESK, PHONE, hydrated, pushRecords, signedInApi, signIn } from "./helpers";

test("the service desk narrows tickets by channel, type and technician; a technician filters their own", async ({
  browser,
  baseURL,
}) => {
  // Two technicians' tickets, pushed through the protocol; the run's tag
  // keeps other tests' tickets out of the counts below.
  const tag = `筛选测试 ${Date.now()}`;
  const ticket = (channel: string, ticket_type: string) => (i: number) => ({
    customer_name: `${tag} 客户 ${channel} ${ticket_type} ${i}`,
    channel,
    ticket_type,
    description: "设备异响，需上门检查",
    opened_at: "2026-11-24T02:00:00Z",
  });
  const tech1 = await signedInApi(baseURL, "tech1");
  await pushRecords(tech1, "ticket", 2, ticket("hotline", "repair"));
  await pushRecords(tech1, "ticket", 1, ticket("web", "complaint"));
  const tech2 = await signedInApi(baseURL, "tech2");
  await pushRecords(tech2, "ticket", 1, ticket("hotline", "repair"));

  // The service desk sees every ticket, with its technician.
  const desk = await browser.newContext({ viewport: DESK });
  const page = await desk.newPage();
  await signIn(page, "agent1");
  await page.goto("/tickets");
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
  await page.getByTestId("list-search").fill(tag);
  const cards = page.getByTestId("record-card");
  await expect(cards).toHaveCount(4);
  await expect(page.getByTestId("record-count")).toContainText("4 /");

  const channel = page.getByTestId("filter-channel");
  await expect(channel.locator("option").first()).toHaveText("来源渠道：全部");
  await channel.selectOption("hotline");
  await expect(cards).toHaveCount(3);
  await page.getByTestId("filter-ticket_type").selectOption("complaint");
  await expect(page.getByTestId("record-list")).toHaveCount(0);
  await expect(page.getByText("没有符合条件的记录。")).toBeVisible();
  await page.getByTestId("filter-ticket_type").selectOption("repair");
  await expect(cards).toHaveCount(3);

  const owner = page.getByTestId("filter-owner");
  await owner.selectOption({ label: "沈师傅" });
  await expect(cards).toHaveCount(1);
  await expect(cards.first().getByTestId("record-owner")).toHaveText("负责人 沈师傅");
  await expect(page.getByTestId("record-count")).toContainText("1 /");
  await page.screenshot({ path: "output/ticket-filters-1440.png" });

  // "All" lifts each filter again.
  await owner.selectOption("");
  await channel.selectOption("");
  await page.getByTestId("filter-ticket_type").selectOption("");
  await expect(cards).toHaveCount(4);

  // A technician sees only their own tickets: filters by channel and type,
  // no owner filter, and no owner on the cards.
  const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const techPage = await phone.newPage();
  await signIn(techPage, "tech1");
  await techPage.goto("/tickets");
  await expect(techPage.getByTestId("sync-status")).toContainText("已全部同步");
  await techPage.getByTestId("list-search").fill(tag);
  const techCards = techPage.getByTestId("record-card");
  await expect(techCards).toHaveCount(3);
  await expect(techPage.getByTestId("filter-owner")).toHaveCount(0);
  await expect(techPage.getByTestId("record-owner")).toHaveCount(0);
  await techPage.getByTestId("filter-channel").selectOption("web");
  await expect(techCards).toHaveCount(1);
  await expect(techCards.first()).toContainText("投诉");
  await techPage.screenshot({ path: "output/ticket-filters-390.png" });
});

test("a list still filling on the first sync says so, then shows the records", async ({ browser, baseURL }) => {
  const tag = `首次同步 ${Date.now()}`;
  const tech2 = await signedInApi(baseURL, "tech2");
  await pushRecords(tech2, "ticket", 1, () => ({
    customer_name: `${tag} 客户`,
    channel: "phone",
    ticket_type: "repair",
    description: "设备异响",
    opened_at: "2026-12-01T02:00:00Z",
  }));
  const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  // The first pull is slow to answer, as on a weak signal.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/api/sync/pull", async (route) => {
    await held;
    await route.continue();
  });
  await signIn(page, "tech2");
  await page.getByTestId("nav").getByText("售后工单").click();
  await expect(page.getByTestId("list-empty")).toHaveText("首次同步中，记录正在到达本机…");
  release();
  await expect(page.getByTestId("record-card").filter({ hasText: tag })).toBeVisible();
  await expect(page.getByTestId("list-empty")).toHaveCount(0);
});

test("a rep corrects a visit offline through its edit form, the supervisor sees the correction, and a closed ticket says why it cannot be edited", async ({
  browser,
  baseURL,
}) => {
  const customer = `改正拜访 ${Date.now()}`;
  const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await signIn(page, "rep1");
  await page.goto("/visits/new");
  await hydrated(page);
  await page.locator('input[name="customer_name"]').fill(customer);
  await page.locator('textarea[name="purpose"]').fill("了解产线改造需求");
  await page.locator('input[name="met_name"]').fill("王建国");
  await page.getByTestId("save-record").click();
  await expect(page).toHaveURL(/\/visits$/);
  const card = page.getByTestId("record-card").filter({ hasText: customer });
  await expect(card).toBeVisible();
  await card.getByTestId("open-record").click();
  await expect(page).toHaveURL(/\/visits\/[0-9a-f-]{36}$/);
  const visitPage = new URL(page.url()).pathname;

  // Offline, the form opens filled from the phone's copy; only what
  // changed is sent, and the page shows it at once, waiting to sync.
  await phone.setOffline(true);
  await page.getByTestId("edit-record").click();
  await expect(page).toHaveURL(new RegExp(`${visitPage}/edit$`));
  await expect(page.getByRole("heading", { name: `编辑 · ${customer}` })).toBeVisible();
  await expect(page.locator('input[name="met_name"]')).toHaveValue("王建国");
  await page.locator('textarea[name="purpose"]').fill("");
  await page.getByTestId("save-record").click();
  await expect(page.locator('[data-field="purpose"]')).toHaveText("必填");
  await page.locator('textarea[name="purpose"]').fill("确认二期产线改造预算");
  await page.locator('input[name="met_title"]').fill("生产总监");
  await page.screenshot({ path: "output/visit-edit-390.png", fullPage: true });
  await page.getByTestId("save-record").click();
  await expect(page).toHaveURL(new RegExp(`${visitPage}$`));
  const detail = page.getByTestId("record-detail");
  await expect(detail).toContainText("确认二期产线改造预算");
  await expect(detail).toContainText("生产总监");
  await expect(detail).toContainText("待同步");
  await phone.setOffline(false);
  await expect(detail).not.toContainText("待同步");

  // The supervisor's desk pulls the corrected visit.
  const desk = await browser.newContext({ viewport: DESK });
  const supPage = await desk.newPage();
  await signIn(supPage, "sup1");
  await supPage.goto(visitPage);
  await expect(supPage.getByTestId("record-detail")).toContainText("确认二期产线改造预算");
  await expect(supPage.getByTestId("record-detail")).toContainText("王建国");

  // A ticket the customer has closed with a rating is not edited until it
  // is reopened: its page says so instead of offering the form.
  const agent = await signedInApi(baseURL, "agent1");
  const ticketCustomer = `已关闭工单 ${Date.now()}`;
  const ticketId = crypto.randomUUID();
  const push = async (mutation: object) => {
    const pushed = await agent.post("/api/sync/push", {
      data: { batch: { client_id: crypto.randomUUID(), mutations: [{ id: crypto.randomUUID(), record_id: ticketId, entity: "ticket", base_version: 1, ...mutation }] } },
    });
    expect((await pushed.json()).results[0].status).toBe("applied");
  };
  await push({
    base_version: 0,
    op: "upsert",
    fields: {
      customer_name: ticketCustomer,
      channel: "hotline",
      ticket_type: "repair",
      description: "设备异响",
      opened_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    },
  });
  await push({ op: "command", command: "resolve", fields: {} });
  await push({ op: "command", command: "close", fields: { rating: "5" } });
  const agentDesk = await browser.newContext({ viewport: DESK });
  const agentPage = await agentDesk.newPage();
  await signIn(agentPage, "agent1");
  await agentPage.goto(`/tickets/${ticketId}`);
  await expect(agentPage.getByTestId("record-status")).toHaveText("已关闭");
  await expect(agentPage.getByTestId("edit-record")).toBeDisabled();
  await expect(agentPage.getByTestId("why-not-editable")).toHaveText("工单已关闭，请先重新打开。");
  await agentPage.screenshot({ path: "output/ticket-closed-no-edit-1440.png" });
});
