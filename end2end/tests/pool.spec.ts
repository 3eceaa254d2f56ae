import { test, expect, Page, APIRequestContext } from "@playwright/test";
import { DESK, PHONE, signIn, signedInApi, syncNow } from "./helpers";

/** Pushes one batch of mutations as the user of `api`; every one must apply. */
async function push(api: APIRequestContext, mutations: object[]) {
  const pushed = await api.post("/api/sync/push", { data: { batch: { client_id: crypto.randomUUID(), mutations } } });
  expect(pushed.ok()).toBeTruthy();
  const results = (await pushed.json()).results;
  expect(results.map((r: { status: string }) => r.status)).toEqual(mutations.map(() => "applied"));
}

function command(recordId: string, name: string) {
  return { id: crypto.randomUUID(), entity: "customer", record_id: recordId, base_version: 1, op: "command", command: name, fields: {} };
}

async function openPoolCustomer(page: Page, company: string) {
  await page.getByRole("link", { name: "客户" }).first().click();
  await page.getByTestId("show-pool").click();
  await expect(page.getByTestId("pool-hint")).toBeVisible();
  // The count says whose records these are: the pool's.
  await expect(page.getByTestId("record-count")).toContainText("公海 · ");
  await page.getByRole("searchbox").fill(company);
  await page.getByTestId("open-record").filter({ hasText: company }).click();
  await expect(page.getByTestId("record-detail")).toContainText(company);
}

test("two reps claim one pooled customer: the desk's claim stands, the phone's offline claim is refused in words", async ({
  browser,
  baseURL,
}) => {
  // 陈强 (rep6, 华南二组) has a recognised customer and gives it back to
  // the team's pool.
  const company = `佛山顺达五金制品有限公司 ${Date.now()}`;
  const id = crypto.randomUUID();
  const owner = await signedInApi(baseURL, "rep6");
  await push(owner, [
    {
      id: crypto.randomUUID(),
      entity: "customer",
      record_id: id,
      base_version: 0,
      op: "upsert",
      fields: {
        company,
        phone: "0757-22334455",
        payment_method: "transfer",
        credit_rating: "credit_good",
        class: "class_b",
      },
    },
    command(id, "submit"),
  ]);
  await push(await signedInApi(baseURL, "sup2"), [command(id, "approve")]);
  await push(owner, [command(id, "release")]);

  // 王磊 (rep4) on a phone sees it in the pool, without its phone.
  const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await signIn(page, "rep4");
  await openPoolCustomer(page, company);
  await expect(page.getByTestId("call")).toHaveCount(0);
  await expect(page.getByTestId("record-detail")).not.toContainText("0757-22334455");
  await expect(page.getByTestId("command-claim")).toBeEnabled();
  await expect(page.getByTestId("command-submit")).toHaveCount(0);
  await page.screenshot({ path: "output/pool-customer-390.png", fullPage: true });

  // Out of signal, he claims it: saved on the phone, to be decided by the server.
  await phone.setOffline(true);
  await page.getByTestId("command-claim").click();
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "1");

  // Meanwhile 冯丽 (rep5) at her desk claims it online, and it is hers,
  // phone and all.
  const desk = await browser.newContext({ viewport: DESK });
  const deskPage = await desk.newPage();
  await signIn(deskPage, "rep5");
  await openPoolCustomer(deskPage, company);
  await deskPage.screenshot({ path: "output/pool-list-1440.png", fullPage: true });
  await deskPage.getByTestId("command-claim").click();
  await syncNow(deskPage);
  await deskPage.getByRole("link", { name: "客户" }).first().click();
  await deskPage.getByTestId("show-own").click();
  await deskPage.getByRole("searchbox").fill(company);
  await deskPage.getByTestId("open-record").filter({ hasText: company }).click();
  await expect(deskPage.getByTestId("call")).toHaveAttribute("href", "tel:0757-22334455");
  await expect(deskPage.getByTestId("command-release")).toBeEnabled();
  await deskPage.screenshot({ path: "output/pool-claimed-1440.png", fullPage: true });

  // The phone comes back online: its claim is refused, and says by whom,
  // though the customer has left the phone with the pool.
  await phone.setOffline(false);
  await syncNow(page);
  await expect(page.getByTestId("refused-away-item")).toContainText(company);
  await expect(page.getByTestId("refused-away-item")).toContainText("该客户已被 冯丽 领取。");
  await page.getByRole("link", { name: "客户" }).first().click();
  await page.getByTestId("show-pool").click();
  await expect(page.getByTestId("open-record").filter({ hasText: company })).toHaveCount(0);
  await page.screenshot({ path: "output/pool-claim-refused-390.png", fullPage: true });
  // Read, it goes.
  await page.getByTestId("refused-away-read").click();
  await expect(page.getByTestId("refused-away")).toHaveCount(0);

  await phone.close();
  await desk.close();
});
