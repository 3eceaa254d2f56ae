import { test, expect, Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { currentBuild, freePort, serve, stop } from "./deploy";
import { PHONE, hydrated, signedInApi, signIn, syncNow } from "./helpers";

/** Adds a lead through the form, online. */
async function addLead(page: Page, company: string) {
  await page.goto("/leads/new");
  await hydrated(page);
  await page.locator('input[name="company"]').fill(company);
  await page.locator('input[name="industry"]').fill("电子");
  await page.locator('input[name="contact_name"]').fill("刘海涛");
  await page.locator('input[name="phone"]').fill("138 1234 5678");
  await page.locator('select[name="source"]').selectOption("referral");
  await page.locator('select[name="grade"]').selectOption("B");
  await page.getByTestId("save-record").click();
  await expect(page.getByTestId("record-list")).toContainText(company);
}

/** The companies of the leads the server holds for the user of `api`. */
async function serverCompanies(api: Awaited<ReturnType<typeof signedInApi>>): Promise<string[]> {
  const answer = await api.post("/api/sync/pull", { data: { request: { cursor: 0 } } });
  expect(answer.ok()).toBeTruthy();
  const page = await answer.json();
  expect(page.has_more).toBe(false);
  return page.changes.filter((c: any) => c.kind === "upsert").map((c: any) => c.fields.company);
}

test("a server restored from a backup gets back from the phone what it had synced since", async ({ browser }) => {
  test.setTimeout(150_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fieldbook-restore-"));
  const build = currentBuild(path.join(work, "build"));
  const fieldbook = path.join(build.dir, "fieldbook");
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const database = `sqlite://${work}/fieldbook.db`;
  const backup = path.join(work, "backup.db");

  let server = await serve(build, port, database);
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, baseURL: base });
  const page = await context.newPage();
  try {
    await signIn(page, "rep2");
    const before = `备份前的客户 ${Date.now()}`;
    const after = `备份后的客户 ${Date.now()}`;
    await addLead(page, before);
    await syncNow(page);
    execFileSync(fieldbook, ["--database-url", database, "backup", backup]);
    await addLead(page, after);
    await syncNow(page);

    // The server is stopped, restored from the backup and started again:
    // it has lost the lead made after the backup.
    await stop(server);
    const restored = execFileSync(fieldbook, ["--database-url", database, "restore", backup]).toString();
    expect(restored).toContain("new epoch");
    server = await serve(build, port, database);
    const api = await signedInApi(base, "rep2");
    expect(await serverCompanies(api)).toContain(before);
    expect(await serverCompanies(api)).not.toContain(after);

    // The phone's next sync is refused for the old epoch; it sends again
    // what the server had acknowledged and ends in step with it.
    await page.goto("/");
    await hydrated(page);
    await syncNow(page);
    await expect.poll(() => serverCompanies(api)).toContain(after);
    await expect(page.getByTestId("record-list")).toContainText(before);
    await expect(page.getByTestId("record-list")).toContainText(after);
    await page.getByTestId("list-search").fill("备份");
    await expect(page.getByTestId("record-card")).toHaveCount(2);
    await page.screenshot({ path: "output/restored-390.png" });
    await api.dispose();
  } finally {
    await context.close();
    await stop(server);
  }
});
