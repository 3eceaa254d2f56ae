import { test, expect, Page } from "@playwright/test";
import { DESK, PHONE, hydrated, pushLeads, signIn, signedInApi } from "./helpers";

/** A lead of the signed-in API user, as a client's outbox carries it. */
function lead(company: string) {
  return {
    company,
    industry: "机械制造",
    contact_name: "陈志强",
    contact_title: "采购经理",
    phone: "13912345678",
    source: "trade_show",
    grade: "A",
    contacted_at: new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

async function syncNow(page: Page) {
  await page.getByTestId("sync-now").click();
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "0");
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
}

test("a rep converts a lead offline, the supervisor approves it, and the rep's phone shows the customer code", async ({
  browser,
  baseURL,
}) => {
  const company = `苏州恒达精密机械有限公司 ${Date.now()}`;
  await pushLeads(await signedInApi(baseURL, "rep3"), 1, () => lead(company));

  // rep3 on a phone finds the lead and opens it.
  const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await signIn(page, "rep3");
  await page.getByRole("searchbox").fill(company);
  await page.getByTestId("open-lead").filter({ hasText: company }).click();
  await expect(page.getByTestId("lead-detail")).toContainText(company);
  await expect(page.getByTestId("call")).toHaveAttribute("href", "tel:13912345678");

  // With no network, the lead becomes a new-customer application filled from it.
  await phone.setOffline(true);
  await page.getByTestId("convert-lead").click();
  await hydrated(page).catch(() => {});
  await expect(page.locator('input[name="company"]')).toHaveValue(company);
  await expect(page.locator('input[name="contact_name"]')).toHaveValue("陈志强");
  await page.locator('input[name="capital"]').fill("5,000,000");
  await page.locator('select[name="payment_method"]').selectOption("transfer");
  await page.locator('input[name="payment_days"]').fill("30");
  await page.locator('select[name="credit_rating"]').selectOption("credit_good");
  await page.screenshot({ path: "output/customer-application-390.png", fullPage: true });
  await page.getByTestId("save-record").click();
  await expect(page.getByTestId("saved-on-device")).toBeVisible();

  // Still offline: the application opens from the device and is submitted.
  await page.getByRole("link", { name: "客户" }).first().click();
  await page.getByTestId("open-record").filter({ hasText: company }).click();
  await expect(page.getByTestId("record-status")).toHaveText("草稿");
  await page.getByTestId("command-submit").click();
  await expect(page.getByTestId("record-status")).toHaveText("审批中");
  await expect(page.getByTestId("command-approve")).toBeDisabled();
  await expect(page.getByTestId("command-approve")).toHaveAttribute("title", "不能审批自己提交的申请。");
  await page.screenshot({ path: "output/customer-submitted-offline-390.png", fullPage: true });

  // Online again, it syncs.
  await phone.setOffline(false);
  await syncNow(page);

  // The supervisor at a desk sees it waiting for them and approves it.
  const desk = await browser.newContext({ viewport: DESK });
  const supPage = await desk.newPage();
  await signIn(supPage, "sup1");
  await supPage.getByRole("link", { name: "客户" }).first().click();
  await supPage.getByTestId("waiting-for-me").check();
  await supPage.getByTestId("open-record").filter({ hasText: company }).click();
  await expect(supPage.getByTestId("approval")).toContainText("郑浩");
  await supPage.getByTestId("command-comment").fill("资料齐全，同意认定");
  await supPage.getByTestId("command-approve").click();
  await expect(supPage.getByTestId("record-status")).toHaveText("已认定");
  await expect(supPage.getByTestId("record-code")).toHaveText(/^C\d{4}-\d{4}$/);
  await supPage.screenshot({ path: "output/customer-approved-1440.png", fullPage: true });
  const code = await supPage.getByTestId("record-code").textContent();

  // The rep's phone shows the code after its next sync, and the lead is converted.
  await syncNow(page);
  await expect(page.getByTestId("record-code")).toHaveText(code!);
  await expect(page.getByTestId("approval-comment")).toHaveText("资料齐全，同意认定");
  await page.screenshot({ path: "output/customer-code-390.png", fullPage: true });
  await page.goto("/");
  await hydrated(page);
  await page.getByRole("searchbox").fill(company);
  await expect(page.getByTestId("lead-card").filter({ hasText: company })).toContainText("已转化");
});

test("the duplicate warning appears while a company is typed, however it is written", async ({ browser, baseURL }) => {
  const stamp = Date.now();
  const api = await signedInApi(baseURL, "rep1");
  const pushed = await api.post("/api/sync/push", {
    data: {
      batch: {
        client_id: crypto.randomUUID(),
        mutations: [
          {
            id: crypto.randomUUID(),
            entity: "customer",
            record_id: crypto.randomUUID(),
            base_version: 0,
            op: "upsert",
            fields: {
              company: `宁波远航物流${stamp}有限公司`,
              payment_method: "cash",
              credit_rating: "credit_fair",
            },
          },
        ],
      },
    },
  });
  expect(pushed.ok()).toBeTruthy();

  // rep4, of the other team, cannot see rep1's customer, yet is warned.
  const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await signIn(page, "rep4");
  await page.goto("/customers/new");
  await hydrated(page);
  const fullWidth = `${stamp}`.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));
  await page.locator('input[name="company"]').fill(`宁波远航物流${fullWidth}股份有限公司`);
  await expect(page.getByTestId("duplicate")).toContainText(`宁波远航物流${stamp}有限公司`);
  await expect(page.getByTestId("duplicate")).toContainText("周晓明");
  await page.screenshot({ path: "output/customer-duplicate-390.png", fullPage: true });
});

test("a command refused by the server is shown in words and the phone returns to the server's state", async ({
  browser,
  baseURL,
}) => {
  const company = `筛选冲突测试有限公司 ${Date.now()}`;
  await pushLeads(await signedInApi(baseURL, "rep2"), 1, () => lead(company));
  const open = async (page: Page) => {
    await page.getByRole("searchbox").fill(company);
    await page.getByTestId("open-lead").filter({ hasText: company }).click();
    await expect(page.getByTestId("lead-status")).toHaveText("待筛选");
  };
  // Two devices of rep2 hold the lead as new.
  const phoneContext = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const phone = await phoneContext.newPage();
  await signIn(phone, "rep2");
  await open(phone);
  const laptopContext = await browser.newContext({ viewport: DESK });
  const laptop = await laptopContext.newPage();
  await signIn(laptop, "rep2");
  await open(laptop);

  // Offline, the phone qualifies the lead; the laptop drops it online first.
  await phoneContext.setOffline(true);
  await phone.getByTestId("qualify").click();
  await expect(phone.getByTestId("lead-status")).toHaveText("有效线索");
  await laptop.getByTestId("disqualify").click();
  await laptop.getByTestId("disqualify-reason").fill("预算取消");
  await laptop.getByTestId("confirm-disqualify").click();
  await expect(laptop.getByTestId("lead-status")).toHaveText("已作废");
  await syncNow(laptop);

  // Back online, the server decides against the lead as it stands: no.
  await phoneContext.setOffline(false);
  await syncNow(phone);
  await expect(phone.getByTestId("lead-refused")).toHaveText("该线索已筛选过。");
  await expect(phone.getByTestId("lead-status")).toHaveText("已作废");
  await phone.screenshot({ path: "output/lead-refused-390.png", fullPage: true });
});
