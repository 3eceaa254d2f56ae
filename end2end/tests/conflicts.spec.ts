import { test, expect } from "@playwright/test";
import { DESK, PHONE, signIn } from "./helpers";

test("a same-field conflict is shown to the rep, who restores the overwritten value", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, "rep6");

  // Two devices of rep6 edit the notes of one lead from the same version.
  const id = crypto.randomUUID();
  const push = async (base_version: number, fields: Record<string, string>) => {
    const mutation = { id: crypto.randomUUID(), entity: "lead", record_id: id, base_version, op: "upsert", fields };
    const answer = await context.request.post("/api/sync/push", {
      data: { batch: { client_id: crypto.randomUUID(), mutations: [mutation] } },
    });
    expect(answer.ok()).toBeTruthy();
    return (await answer.json()).results[0].status;
  };
  const company = `冲突演示机电有限公司 ${Date.now()}`;
  expect(
    await push(0, {
      company,
      industry: "机电",
      contact_name: "何军",
      phone: "13712345678",
      source: "referral",
      grade: "B",
      contacted_at: "2026-11-20T02:00:00Z",
    }),
  ).toBe("applied");
  expect(await push(1, { notes: "手机上：周五送样" })).toBe("applied");
  expect(await push(1, { notes: "电脑上：下周一送样" })).toBe("conflict");

  // The status bar says so after the next sync; the review screen shows both values.
  await page.getByTestId("sync-now").click();
  await page.getByTestId("conflicts-waiting").click();
  const conflict = page.getByTestId("conflict").filter({ hasText: company });
  await expect(conflict).toBeVisible();
  await expect(conflict.getByTestId("current-value")).toHaveText("电脑上：下周一送样");
  await expect(conflict.getByTestId("overwritten-value")).toHaveText("手机上：周五送样");
  await expect(conflict).toContainText("备注");
  await page.screenshot({ path: "output/conflicts-390.png" });
  await page.setViewportSize(DESK);
  await page.screenshot({ path: "output/conflicts-1440.png" });
  await page.setViewportSize(PHONE);

  await conflict.getByTestId("restore-overwritten").click();
  await expect(conflict).toHaveCount(0);
  await expect(page.getByTestId("conflicts-waiting")).toHaveCount(0);
  const pulled = await context.request.post("/api/sync/pull", { data: { request: { cursor: 0 } } });
  const lead = (await pulled.json()).changes.find((c: any) => c.id === id);
  expect(lead.fields.notes).toBe("手机上：周五送样");
});
