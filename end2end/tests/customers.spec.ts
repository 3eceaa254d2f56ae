import { test, expect, Page } from "@playwright/test";
import { DESK, PHONE, hydrated, pushLeads, signIn, signedInApi, syncNow } from "./helpers";

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
  await page.getByTestId("open-record").filter({ hasText: company }).click();
  await expect(page.getByTestId("record-detail")).toContainText(company);
  await expect(page.getByTestId("call")).toHaveAttribute("href", "tel:13912345678");

  // With no network, the lead becomes a new-customer application filled from it.
  await phone.setOffline(true);
  await page.getByTestId("command-convert").click();
  await hydrated(page).catch(() => {});
  await expect(page.locator('input[name="company"]')).toHaveValue(company);
  await expect(page.locator('input[name="contact_name"]')).toHaveValue("陈志强");
  await page.locator('input[name="capital"]').fill("5,000,000");
  await page.locator('select[name="payment_method"]').selectOption("transfer");
  await page.locator('input[name="payment_days"]').fill("30");
  await page.locator('select[name="credit_rating"]').selectOption("credit_good");
  // Its size, sales and their trend propose the class (seed 001's A/B/C/D).
  await expect(page.getByTestId("proposal")).toContainText("系统按规模、销售额和趋势建议客户分类");
  await page.locator('input[name="staff"]').fill("约 600 人");
  await page.locator('input[name="annual_sales"]').fill("60,000,000");
  await page.locator('select[name="sales_trend"]').selectOption("trend_steady");
  await expect(page.getByTestId("proposal")).toHaveText("评分 5/6 · 建议客户分类：A 类");
  await expect(page.locator('select[name="class"]')).toHaveValue("class_a");
  // Two more people at the company, the second the main contact.
  const contacts = page.getByTestId("lines-contacts");
  await contacts.getByTestId("add-line").click();
  await contacts.getByTestId("line").nth(0).getByTestId("line-name").fill("王建国");
  await contacts.getByTestId("line").nth(0).getByTestId("line-phone").fill("0512-66778899");
  await contacts.getByTestId("add-line").click();
  await contacts.getByTestId("line").nth(1).getByTestId("line-name").fill("刘芳");
  await contacts.getByTestId("line").nth(1).getByTestId("line-title").fill("财务总监");
  await contacts.getByTestId("line").nth(1).getByTestId("line-primary").selectOption("yes");
  await contacts.getByTestId("add-line").click();
  await contacts.getByTestId("line").nth(2).getByTestId("remove-line").click();
  await expect(contacts.getByTestId("line")).toHaveCount(2);
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
  // Under review, the application is not edited; the page says why.
  await expect(page.getByTestId("edit-record")).toBeDisabled();
  await expect(page.getByTestId("why-not-editable")).toHaveText("客户认定申请正在审批中，审批结束前不能修改。");
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
  // The lead it was converted from is listed on it, converted.
  await expect(page.getByTestId("related-lead").getByTestId("related-record")).toContainText(company);
  await expect(page.getByTestId("related-lead")).toContainText("已转化");
  // Its contacts: both, phones to tap, the main one marked.
  await expect(page.getByTestId("line-shown")).toHaveCount(2);
  await expect(page.getByTestId("line-shown").nth(0)).toContainText("王建国");
  await expect(page.getByTestId("line-shown").nth(0).getByTestId("call")).toHaveAttribute("href", "tel:0512-66778899");
  await expect(page.getByTestId("line-shown").nth(1)).toContainText("主要联系人");
  await page.screenshot({ path: "output/customer-code-390.png", fullPage: true });
  await page.goto("/");
  await hydrated(page);
  await page.getByRole("searchbox").fill(company);
  await expect(page.getByTestId("record-card").filter({ hasText: company })).toContainText("已转化");
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
    await page.getByTestId("open-record").filter({ hasText: company }).click();
    await expect(page.getByTestId("record-status")).toHaveText("待筛选");
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
  await phone.getByTestId("command-qualify").click();
  await expect(phone.getByTestId("record-status")).toHaveText("有效线索");
  await laptop.getByTestId("command-reason").fill("预算取消");
  await laptop.getByTestId("command-disqualify").click();
  await expect(laptop.getByTestId("record-status")).toHaveText("已作废");
  await syncNow(laptop);

  // Back online, the server decides against the lead as it stands: no.
  await phoneContext.setOffline(false);
  await syncNow(phone);
  await expect(phone.getByTestId("record-refused")).toHaveText("该线索已筛选过。");
  await expect(phone.getByTestId("record-status")).toHaveText("已作废");
  await phone.screenshot({ path: "output/lead-refused-390.png", fullPage: true });
});

test("the service desk links a new ticket to a customer found by name, links an older one later, and the customer's page lists both", async ({
  browser,
  baseURL,
}) => {
  const stamp = Date.now();
  const company = `宁波远航物流有限公司 ${stamp}`;
  const customerId = crypto.randomUUID();
  const rep = await signedInApi(baseURL, "rep2");
  const pushed = await rep.post("/api/sync/push", {
    data: {
      batch: {
        client_id: crypto.randomUUID(),
        mutations: [
          {
            id: crypto.randomUUID(),
            entity: "customer",
            record_id: customerId,
            base_version: 0,
            op: "upsert",
            fields: {
              company,
              contact_name: "林国栋",
              phone: "13857412345",
              payment_method: "transfer",
              credit_rating: "credit_good",
            },
          },
        ],
      },
    },
  });
  expect((await pushed.json()).results[0].status).toBe("applied");
  // A caller who was not found when the ticket was opened.
  const agentApi = await signedInApi(baseURL, "agent1");
  const olderId = crypto.randomUUID();
  await agentApi.post("/api/sync/push", {
    data: {
      batch: {
        client_id: crypto.randomUUID(),
        mutations: [
          {
            id: crypto.randomUUID(),
            entity: "ticket",
            record_id: olderId,
            base_version: 0,
            op: "upsert",
            fields: {
              customer_name: `远航物流 ${stamp}`,
              channel: "phone",
              ticket_type: "consultation",
              description: "询问保养周期",
              opened_at: new Date(Date.now() - 86_400_000).toISOString().replace(/\.\d+Z$/, "Z"),
            },
          },
        ],
      },
    },
  });

  const desk = await browser.newContext({ viewport: DESK });
  const page = await desk.newPage();
  await signIn(page, "agent1");
  await page.goto("/tickets/new");
  await hydrated(page);
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
  const picker = page.getByTestId("reference-customer_id");
  await expect(picker.getByTestId("reference-none")).toBeVisible();
  await picker.getByTestId("reference-search").fill(`远航物流有限公司 ${stamp}`);
  await picker.getByTestId("reference-candidate").filter({ hasText: company }).click();
  await expect(picker.getByTestId("reference-chosen")).toContainText(company);
  await expect(page.locator('input[name="customer_name"]')).toHaveValue(company);
  await expect(page.locator('input[name="contact_name"]')).toHaveValue("林国栋");
  await expect(page.locator('input[name="contact_phone"]')).toHaveValue("13857412345");
  await page.locator('select[name="channel"]').selectOption("hotline");
  await page.locator('select[name="ticket_type"]').selectOption("repair");
  await page.locator('textarea[name="description"]').fill("叉车液压系统漏油");
  await page.screenshot({ path: "output/ticket-customer-lookup-1440.png", fullPage: true });
  await page.getByTestId("save-record").click();
  await expect(page).toHaveURL(/\/tickets$/);
  await page.getByTestId("list-search").fill(company);
  await page.getByTestId("open-record").filter({ hasText: company }).click();
  await expect(page.getByTestId("linked-record")).toHaveText(company);

  // The older ticket is linked by editing it.
  await page.goto(`/tickets/${olderId}`);
  await expect(page.getByTestId("record-detail")).toContainText(`远航物流 ${stamp}`);
  await page.getByTestId("edit-record").click();
  await page.getByTestId("reference-search").fill("13857412345");
  await page.getByTestId("reference-candidate").filter({ hasText: company }).click();
  await page.getByTestId("save-record").click();
  await expect(page).toHaveURL(new RegExp(`/tickets/${olderId}$`));
  await expect(page.getByTestId("linked-record")).toHaveText(company);
  await expect(page.getByTestId("record-detail")).toContainText(company);

  // The customer's page lists its tickets, newest first.
  await page.getByTestId("linked-record").click();
  await expect(page).toHaveURL(new RegExp(`/customers/${customerId}$`));
  const related = page.getByTestId("related-ticket").getByTestId("related-record");
  await expect(related).toHaveCount(2);
  await expect(related.first()).toContainText(company);
  await page.screenshot({ path: "output/customer-tickets-1440.png", fullPage: true });

  // A follow-up after the older ticket (模板七), made from the ticket's
  // page: the ticket and its customer come linked, and both pages list it.
  await page.goto(`/tickets/${olderId}`);
  await expect(page.getByTestId("related-follow_up")).toContainText("售后跟进 · 0");
  await page.getByTestId("add-follow_up").click();
  await expect(page).toHaveURL(new RegExp(`/follow-ups/new\\?ticket_id=${olderId}$`));
  await expect(page.getByTestId("reference-ticket_id").getByTestId("reference-chosen")).toContainText(company);
  await expect(page.getByTestId("reference-customer_id").getByTestId("reference-chosen")).toContainText(company);
  await expect(page.locator('input[name="customer_name"]')).toHaveValue(company);
  await page.locator('select[name="follow_method"]').selectOption("phone");
  await page.locator('textarea[name="customer_feedback"]').fill("保养周期已说明，客户满意");
  await page.locator('textarea[name="follow_result"]').fill("问题已解决");
  await page.locator('input[name="next_follow_up_date"]').fill("2027-03-03");
  await page.screenshot({ path: "output/follow-up-form-1440.png", fullPage: true });
  await page.getByTestId("save-record").click();
  await expect(page).toHaveURL(/\/follow-ups$/);
  await expect(page.getByTestId("record-card").filter({ hasText: company })).toBeVisible();
  await page.goto(`/tickets/${olderId}`);
  await expect(page.getByTestId("related-follow_up").getByTestId("related-record")).toHaveCount(1);
  await page.goto(`/customers/${customerId}`);
  await expect(page.getByTestId("related-follow_up").getByTestId("related-record")).toHaveCount(1);
});

test("contacts added on a phone and at a desk while both are offline are all kept, line by line", async ({
  browser,
  baseURL,
}) => {
  const company = `常州新程自动化有限公司 ${Date.now()}`;
  const api = await signedInApi(baseURL, "rep3");
  const id = crypto.randomUUID();
  const created = await api.post("/api/sync/push", {
    data: {
      batch: {
        client_id: crypto.randomUUID(),
        mutations: [
          {
            id: crypto.randomUUID(),
            entity: "customer",
            record_id: id,
            base_version: 0,
            op: "upsert",
            fields: {
              company,
              capital: "5000000.00",
              payment_method: "transfer",
              payment_days: "30",
              credit_rating: "credit_good",
              phone: "13812345678",
              contacts: [{ id: crypto.randomUUID(), name: "王建国", title: "总经理", primary: "yes" }],
            },
          },
        ],
      },
    },
  });
  expect((await created.json()).results[0].status).toBe("applied");

  // The rep's phone and desk each open the customer, lose the network and
  // add a contact to the one list both started from.
  const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const desk = await browser.newContext({ viewport: DESK });
  const added: [typeof phone, string, string][] = [
    [phone, "李娜", "采购经理"],
    [desk, "赵磊", "财务总监"],
  ];
  const pages: Page[] = [];
  for (const [context, name, title] of added) {
    const page = await context.newPage();
    await signIn(page, "rep3");
    await page.goto(`/customers/${id}`);
    await hydrated(page);
    await expect(page.getByTestId("record-detail")).toContainText("王建国");
    await page.getByTestId("edit-record").click();
    const contacts = page.getByTestId("lines-contacts");
    await expect(contacts.getByTestId("line")).toHaveCount(1);
    await context.setOffline(true);
    await contacts.getByTestId("add-line").click();
    await contacts.getByTestId("line").nth(1).getByTestId("line-name").fill(name);
    await contacts.getByTestId("line").nth(1).getByTestId("line-title").fill(title);
    await page.getByTestId("save-record").click();
    await expect(page).toHaveURL(new RegExp(`/customers/${id}$`));
    await expect(page.getByTestId("record-detail")).toContainText("待同步");
    pages.push(page);
  }

  // Back online, both sync: each contact holds, and nothing is a conflict.
  for (const [i, [context]] of added.entries()) {
    await context.setOffline(false);
    await syncNow(pages[i]);
  }
  await syncNow(pages[0]);
  for (const page of pages) {
    const shown = page.getByTestId("record-detail").getByTestId("line-shown");
    await expect(shown).toHaveCount(3);
    await expect(shown.nth(0)).toContainText("王建国");
    await expect(shown.nth(1)).toContainText("李娜");
    await expect(shown.nth(2)).toContainText("赵磊");
  }
  await pages[0].screenshot({ path: "output/customer-contacts-merged-390.png", fullPage: true });
  const conflicts = await (await api.post("/api/sync/conflicts", { data: {} })).json();
  expect(conflicts.filter((c: { record_id: string }) => c.record_id === id)).toEqual([]);
  await phone.close();
  await desk.close();
});
