import { test, expect } from "@playwright/test";
import { PHONE, hydrated } from "./helpers";

// A phone that saved a lead offline with the first version of the local
// store (records as JSON text) gets a new release: the store is migrated,
// the lead still shows, and its waiting change still reaches the server.
test("a version 1 local store is migrated without losing a record or its waiting change", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true });
  const login = await context.request.post("/api/auth/login", { data: { username: "rep3", password: "demo1234" } });
  expect(login.ok()).toBeTruthy();
  const me = await (await context.request.post("/api/auth/me", { data: {} })).json();

  const recordId = crypto.randomUUID();
  const mutationId = crypto.randomUUID();
  const company = `旧版本地库迁移有限公司 ${Date.now()}`;
  const fields = {
    company,
    industry: "纺织",
    contact_name: "许文",
    phone: "13512345678",
    source: "referral",
    grade: "A",
    contacted_at: "2026-11-20T02:00:00Z",
  };
  const page = await context.newPage();
  // Any page of the site, before the app has opened the store.
  await page.goto("/robots.txt");
  await page.evaluate(
    async ({ user, recordId, mutationId, fields }) => {
      const db: IDBDatabase = await new Promise((resolve, reject) => {
        const open = indexedDB.open(`fieldbook-${user}`, 1);
        open.onupgradeneeded = () => {
          open.result.createObjectStore("records");
          open.result.createObjectStore("outbox");
        };
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const tx = db.transaction(["records", "outbox"], "readwrite");
      tx.objectStore("records").put(
        JSON.stringify({ entity: "lead", id: recordId, version: 0, fields, deleted: false, rejected: null }),
        `lead:${recordId}`,
      );
      tx.objectStore("outbox").put(
        JSON.stringify({ id: mutationId, entity: "lead", record_id: recordId, base_version: 0, op: "upsert", fields }),
        mutationId,
      );
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    },
    { user: me.id, recordId, mutationId, fields },
  );

  // The new release opens the store: migrated, shown, and synced.
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("record-card").filter({ hasText: company })).toBeVisible();
  await expect(page.getByTestId("pending")).toHaveAttribute("data-pending", "0");
  const pulled = await context.request.post("/api/sync/pull", { data: { request: { cursor: 0 } } });
  const lead = (await pulled.json()).changes.find((c: any) => c.id === recordId);
  expect(lead?.fields.company).toBe(company);

  // The old store is empty and the new one holds the record.
  const stores = await page.evaluate(async (user) => {
    const db: IDBDatabase = await new Promise((resolve) => {
      const open = indexedDB.open(`fieldbook-${user}`);
      open.onsuccess = () => resolve(open.result);
    });
    const count = (name: string) =>
      new Promise<number>((resolve) => {
        const req = db.transaction(name).objectStore(name).count();
        req.onsuccess = () => resolve(req.result);
      });
    const result = {
      version: db.version,
      old: await count("records"),
      current: await count("records_v2"),
      sent: await count("sent"),
      photos: await count("photos"),
    };
    db.close();
    return result;
  }, me.id);
  expect(stores.version).toBe(3);
  expect(stores.old).toBe(0);
  expect(stores.current).toBeGreaterThan(0);
  // Version 3 keeps what the server acknowledged, to send again after a
  // restore, and photos waiting to upload.
  expect(stores.sent).toBe(1);
  expect(stores.photos).toBe(0);
});
