import { test, expect } from "@playwright/test";
import { DESK, PHONE, signIn } from "./helpers";

test("the admin saves the company's settings, starting from the standard numbers, and a rep's phone receives them", async ({
  browser,
}) => {
  // The admin's home is the company's settings: the form, started with
  // the standard numbers, since nobody has saved them yet.
  const desk = await browser.newContext({ viewport: DESK });
  const page = await desk.newPage();
  await signIn(page, "admin");
  await expect(page).toHaveURL(/\/company-settings$/);
  const form = page.getByTestId("record-form");
  await expect(form.locator('input[name="pool_daily_quota"]')).toHaveValue("5");
  await expect(form.locator('input[name="pool_days_class_a"]')).toHaveValue("90");
  await expect(form.locator('select[name="ticket_clock_mode"]')).toHaveValue("calendar_hours");
  // Surveys go out by hand until the company chooses a period.
  await expect(form.locator('select[name="survey_period"]')).toHaveValue("no_survey");

  // A number out of range is refused in words, and nothing is saved.
  await form.locator('input[name="company_name"]').fill("华东机电设备有限公司");
  await form.locator('input[name="reopen_within_days"]').fill("0");
  await page.getByTestId("save-record").click();
  await expect(page.locator('[data-field="reopen_within_days"]')).toBeVisible();

  await form.locator('input[name="reopen_within_days"]').fill("15");
  await form.locator('select[name="survey_period"]').selectOption("monthly");
  const daysOff = page.getByTestId("lines-days_off");
  await daysOff.getByTestId("add-line").click();
  await daysOff.getByTestId("line").nth(0).getByTestId("line-date").fill("2027-02-15");
  await daysOff.getByTestId("line").nth(0).getByTestId("line-day_name").fill("春节延长假");
  await page.screenshot({ path: "output/settings-form-1440.png", fullPage: true });
  await page.getByTestId("save-record").click();

  // Saved and synced, the page shows them.
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步");
  await page.goto("/company-settings");
  await expect(page.getByText("华东机电设备有限公司").first()).toBeVisible();
  await expect(page.getByText("春节延长假")).toBeVisible();
  await expect(page.getByText("每月", { exact: true })).toBeVisible();
  await page.screenshot({ path: "output/settings-1440.png", fullPage: true });

  // A rep's phone holds them (the rules read them there too), to read,
  // not to change; the rep's menu has no settings section.
  const phone = await browser.newContext({ viewport: PHONE });
  const rep = await phone.newPage();
  await signIn(rep, "rep1");
  await expect(rep.getByTestId("sync-status")).toContainText("已全部同步");
  await expect(rep.getByTestId("nav")).not.toContainText("公司设置");
  await rep.goto("/company-settings");
  await expect(rep.getByText("华东机电设备有限公司").first()).toBeVisible();
  await expect(rep.getByText("春节延长假")).toBeVisible();
  await expect(rep.getByRole("link", { name: "编辑" })).toHaveCount(0);
  await rep.screenshot({ path: "output/settings-390.png", fullPage: true });
  await desk.close();
  await phone.close();
});
