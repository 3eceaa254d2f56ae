import { test, expect } from "@playwright/test";
import { DESK, PHONE, hydrated, pushRecords, signIn, signedInApi, syncNow } from "./helpers";

test("one company entered on two phones offline: both are kept, and the supervisor merges them into one", async ({
  browser,
  baseURL,
}) => {
  const stamp = Date.now();
  const phoneNumber = `138${String(stamp).slice(-8)}`;
  // 周晓明 (rep1) entered 恒达 on his phone; it synced.
  await pushRecords(await signedInApi(baseURL, "rep1"), "customer", 1, () => ({
    company: `恒达${stamp}精密机械有限公司`,
    phone: phoneNumber,
    payment_method: "transfer",
    credit_rating: "credit_good",
    contact_name: "陈志强",
  }));

  // 吴芳 (rep2), out of signal at the same company, enters it again, written
  // her way, with its address and the buyer.
  const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await signIn(page, "rep2");
  await phone.setOffline(true);
  await page.goto("/customers/new").catch(() => {});
  await hydrated(page);
  await page.locator('input[name="company"]').fill(`恒达${stamp}精密机械`);
  await page.locator('input[name="phone"]').fill(`+86 ${phoneNumber}`);
  await page.locator('input[name="address"]').fill("苏州工业园区星湖街 88 号");
  await page.locator('select[name="payment_method"]').selectOption("transfer");
  await page.locator('select[name="credit_rating"]').selectOption("credit_good");
  const contacts = page.getByTestId("lines-contacts");
  await contacts.getByTestId("add-line").click();
  await contacts.getByTestId("line").nth(0).getByTestId("line-name").fill("李娜");
  await contacts.getByTestId("line").nth(0).getByTestId("line-primary").selectOption("yes");
  await page.getByTestId("save-record").click();
  await expect(page.getByTestId("saved-on-device")).toBeVisible();
  // Online again, it syncs: both are kept.
  await phone.setOffline(false);
  await syncNow(page);

  // 孙主管 (sup1) at the desk sees the pair among the look-alikes.
  const desk = await browser.newContext({ viewport: DESK });
  const sup = await desk.newPage();
  await signIn(sup, "sup1");
  await sup.getByRole("link", { name: "客户" }).first().click();
  await sup.getByTestId("open-look-alikes").click();
  const pair = sup.getByTestId("look-alike").filter({ hasText: String(stamp) });
  await expect(pair).toHaveCount(1);
  await expect(pair).toContainText("周晓明");
  await expect(pair).toContainText("吴芳");
  await expect(pair.getByTestId("look-alike-shared")).toHaveText("相同：公司名称、电话");
  await sup.screenshot({ path: "output/look-alikes-1440.png", fullPage: true });
  // On a phone the two stack, each with its button.
  await sup.setViewportSize(PHONE);
  await sup.screenshot({ path: "output/look-alikes-390.png", fullPage: true });
  await sup.setViewportSize(DESK);

  // The older entry (周晓明's) is kept; 吴芳's is merged into it.
  const kept = pair.getByTestId("look-alike-side").filter({ hasText: "周晓明" });
  await kept.getByTestId("look-alike-keep").click();
  // The pair says the merge is on its way until the sync that follows the
  // command takes the duplicate away, which may come first.
  await expect
    .poll(async () => (await pair.getByTestId("look-alike-sent").count()) + (await pair.count() === 0 ? 1 : 0))
    .toBeGreaterThan(0);
  await syncNow(sup);
  await expect(sup.getByTestId("look-alike").filter({ hasText: String(stamp) })).toHaveCount(0);

  // The one kept has the address and both people.
  await sup.getByRole("link", { name: "客户" }).first().click();
  await sup.getByRole("searchbox").fill(String(stamp));
  await expect(sup.getByTestId("open-record")).toHaveCount(1);
  await sup.getByTestId("open-record").click();
  await expect(sup.getByTestId("record-detail")).toContainText("苏州工业园区星湖街 88 号");
  await expect(sup.getByTestId("line-shown").filter({ hasText: "李娜" })).toHaveCount(1);
  await expect(sup.getByTestId("look-alike-note")).toHaveCount(0);
  await sup.screenshot({ path: "output/look-alike-merged-1440.png", fullPage: true });

  // 吴芳's phone no longer holds the duplicate.
  await syncNow(page);
  await page.getByRole("link", { name: "客户" }).first().click();
  await page.getByRole("searchbox").fill(String(stamp));
  await expect(page.getByTestId("open-record")).toHaveCount(0);
  await page.screenshot({ path: "output/look-alike-gone-390.png", fullPage: true });
});
