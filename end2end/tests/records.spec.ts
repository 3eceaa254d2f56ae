import { test, expect } from "@playwright/test";
import { DESK, PHONE, pushRecords, signedInApi, signIn } from "./helpers";

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
