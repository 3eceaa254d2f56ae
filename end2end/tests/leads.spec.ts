import { test, expect } from "@playwright/test";
import { DESK, PHONE, hydrated, pushLeads, signedInApi, signIn } from "./helpers";

test("a rep on a phone adds a lead, reloads and finds it", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, "rep1");
  await expect(page.getByRole("heading", { name: "线索" })).toBeVisible();
  await expect(page.getByText("我的线索")).toBeVisible();

  await page.getByTestId("new-record").click();
  await expect(page.getByRole("heading", { name: "新增线索" })).toBeVisible();
  await hydrated(page);

  // An empty submit shows field-level messages in Chinese and saves nothing.
  await page.getByTestId("save-record").click();
  await expect(page.locator('[data-field="company"]')).toHaveText("必填");
  await expect(page.getByRole("alert")).toHaveText("请修正标出的字段。");

  const company = `端到端测试科技有限公司 ${Date.now()}`;
  await page.locator('input[name="company"]').fill(company);
  await page.locator('input[name="industry"]').fill("电子");
  await page.locator('input[name="contact_name"]').fill("刘海涛");
  await page.locator('input[name="phone"]').fill("138 1234 567");
  await page.locator('select[name="source"]').selectOption("referral");
  // Screening's factors propose the grade: a close fit, large, a rough
  // budget, the decision maker reached: 7 of 8, grade A. The rep may
  // choose another; a choice of the rep's stays.
  await expect(page.getByTestId("proposal")).toContainText("系统按评分建议等级");
  await page.locator('select[name="industry_fit"]').selectOption("fit_high");
  await page.locator('select[name="scale"]').selectOption("scale_large");
  await page.locator('select[name="budget"]').selectOption("budget_unknown");
  await expect(page.getByTestId("proposal")).toHaveText("评分 4/8 · 建议意向等级：B 中意向");
  await expect(page.locator('select[name="grade"]')).toHaveValue("B");
  await page.locator('select[name="budget"]').selectOption("budget_range");
  await page.locator('select[name="decision_chain"]').selectOption("chain_clear");
  await expect(page.getByTestId("proposal")).toHaveText("评分 7/8 · 建议意向等级：A 高意向");
  await expect(page.locator('select[name="grade"]')).toHaveValue("A");
  await page.getByTestId("save-record").click();
  await expect(page.locator('[data-field="phone"]')).toContainText("请输入有效的电话号码");

  await page.locator('input[name="phone"]').fill("138 1234 5678");
  await page.screenshot({ path: "output/lead-form-390.png", fullPage: true });
  await page.getByTestId("save-record").click();

  await expect(page.getByTestId("record-list")).toContainText(company);
  await page.reload();
  const card = page.getByTestId("record-card").filter({ hasText: company });
  await expect(card).toBeVisible();
  await expect(card).toContainText("刘海涛");
  await page.screenshot({ path: "output/leads-390.png" });

  // The rep corrects it: the form opens filled; the new phone and next
  // step show on its page, and the supervisor below sees the correction.
  await card.getByTestId("open-record").click();
  await page.getByTestId("edit-record").click();
  await expect(page.getByRole("heading", { name: `编辑 · ${company}` })).toBeVisible();
  await expect(page.locator('input[name="contact_name"]')).toHaveValue("刘海涛");
  await expect(page.locator('select[name="grade"]')).toHaveValue("A");
  await page.locator('input[name="phone"]').fill("139 8765 4321");
  await page.locator('textarea[name="next_step"]').fill("下周二上门演示");
  await page.getByTestId("save-record").click();
  await expect(page).toHaveURL(/\/leads\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("record-detail")).toContainText("下周二上门演示");
  await expect(page.getByTestId("record-detail")).toContainText("7 / 8");
  await expect(page.getByTestId("record-detail")).toContainText("决策人明确、已接触");
  await expect(page.getByTestId("call")).toHaveAttribute("href", "tel:13987654321");
  await expect(page.getByTestId("record-detail")).not.toContainText("待同步");

  // The supervisor of rep1's team sees it; a rep of the other team does not.
  const supervisor = await browser.newContext({ viewport: DESK });
  const supPage = await supervisor.newPage();
  await signIn(supPage, "sup1");
  await expect(supPage.getByText("本团队线索")).toBeVisible();
  await expect(supPage.getByTestId("record-card").filter({ hasText: company })).toBeVisible();
  await expect(supPage.getByTestId("record-card").filter({ hasText: company })).toContainText("13987654321");
  await supPage.screenshot({ path: "output/leads-1440.png" });
  // Its page says whose it is.
  await supPage.getByTestId("record-card").filter({ hasText: company }).getByTestId("open-record").click();
  await expect(supPage.getByTestId("record-detail").getByTestId("record-owner")).toHaveText("周晓明");
  await supPage.screenshot({ path: "output/lead-1440.png", fullPage: true });

  const other = await browser.newContext({ viewport: PHONE });
  const otherPage = await other.newPage();
  await signIn(otherPage, "rep4");
  await expect(otherPage.getByTestId("record-list")).toBeVisible();
  await expect(otherPage.getByText(company)).toHaveCount(0);
});

test("English can be chosen and the choice survives a reload", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await signIn(page, "rep2");
  await page.getByTestId("switch-language").click();
  await expect(page.getByRole("heading", { name: "Leads" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("heading", { name: "Leads" })).toBeVisible();
  await page.getByTestId("sign-out").click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
});

test("a rep finds a lead by typing part of its company or contact", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, "rep2");
  await expect(page.getByTestId("record-count")).toContainText("条");
  const total = await page.getByTestId("record-card").count();
  expect(total).toBeGreaterThan(10);

  // The last card's company and contact, typed as two words.
  const last = page.getByTestId("record-card").last();
  const company = (await last.locator(".company").innerText()).trim();
  // The card's summary: industry · source · contact · phone.
  const contact = (await last.locator(".lead-main .muted").innerText()).split(" · ")[2];
  const search = page.getByTestId("list-search");
  await search.fill(`${company.slice(0, 4)} ${contact}`);
  const cards = page.getByTestId("record-card");
  await expect(cards.first()).toContainText(company.slice(0, 4));
  const found = await cards.count();
  expect(found).toBeGreaterThan(0);
  expect(found).toBeLessThan(total);
  for (let i = 0; i < found; i++) {
    await expect(cards.nth(i)).toContainText(contact);
  }
  await expect(page.getByTestId("record-count")).toContainText(`${found} / `);
  await expect(page.getByTestId("record-count")).toContainText("符合条件");
  await page.screenshot({ path: "output/lead-search-390.png" });

  await search.fill("没有这家公司");
  await expect(page.getByText("没有符合条件的记录。")).toBeVisible();
  await expect(cards).toHaveCount(0);

  await search.fill("");
  await expect(cards).toHaveCount(total);
});

test("a list counts every lead on the phone, well past one read of the local store", async ({ browser, baseURL }) => {
  // 1,100 more leads for rep4, pushed through the protocol: the list reads
  // the local store in chunks of 500, so this spans three reads.
  const api = await signedInApi(baseURL, "rep4");
  await pushLeads(api, 1_100, (i) => ({
    company: `批量导入测试有限公司 ${i}`,
    industry: "机械制造",
    contact_name: "赵敏",
    phone: "13812345678",
    source: "trade_show",
    grade: "C",
    contacted_at: "2026-11-20T02:00:00Z",
  }));
  // What the server says rep4 holds.
  const held = new Set<string>();
  for (let cursor = 0; ; ) {
    const page = await (await api.post("/api/sync/pull", { data: { request: { cursor } } })).json();
    for (const change of page.changes) {
      if (change.entity !== "lead") continue;
      if (change.kind === "upsert") held.add(change.id);
      else held.delete(change.id);
    }
    cursor = page.cursor;
    if (!page.has_more) break;
  }
  expect(held.size).toBeGreaterThan(1_100);

  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, "rep4");
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步", { timeout: 30_000 });
  await expect(page.getByTestId("record-count")).toContainText(`· ${held.size} 条`);
  await expect(page.getByTestId("record-card")).toHaveCount(200);
});

test("a supervisor narrows the team's leads to one rep and one grade", async ({ browser }) => {
  const context = await browser.newContext({ viewport: DESK });
  const page = await context.newPage();
  await signIn(page, "sup1");
  await expect(page.getByTestId("record-count")).toContainText("本团队线索");
  const cards = page.getByTestId("record-card");
  await expect(cards.first()).toBeVisible();

  // The owner filter offers the team's reps; pick one.
  const owner = page.getByTestId("filter-owner");
  const choices = await owner.locator("option").allInnerTexts();
  expect(choices[0]).toBe("全部负责人");
  expect(choices.length).toBeGreaterThan(2);
  const rep = choices[1];
  await owner.selectOption({ label: rep });
  await expect(page.getByTestId("record-count")).toContainText("符合条件");
  const byRep = await cards.count();
  expect(byRep).toBeGreaterThan(0);
  for (let i = 0; i < byRep; i++) await expect(cards.nth(i)).toContainText(`负责人 ${rep}`);
  // A sync reads the list again; the choice stays shown.
  await page.getByTestId("sync-now").click();
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
  await expect(owner.locator("option:checked")).toHaveText(rep);

  // And only its A leads.
  await page.getByTestId("filter-grade").selectOption("A");
  const aLeads = await cards.count();
  expect(aLeads).toBeLessThanOrEqual(byRep);
  for (let i = 0; i < aLeads; i++) {
    await expect(cards.nth(i)).toContainText(`负责人 ${rep}`);
    await expect(cards.nth(i).locator(".grade")).toHaveText("A");
  }
  await page.screenshot({ path: "output/lead-filters-1440.png" });

  // Back to everyone.
  await owner.selectOption("");
  await page.getByTestId("filter-grade").selectOption("");
  await expect(page.getByTestId("record-count")).not.toContainText("符合条件");

  // A rep sees only their own leads: no owner filter.
  const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const repPage = await phone.newPage();
  await signIn(repPage, "rep1");
  await expect(repPage.getByTestId("filter-grade")).toBeVisible();
  await expect(repPage.getByTestId("filter-owner")).toHaveCount(0);
  await repPage.screenshot({ path: "output/lead-filters-390.png" });
});
