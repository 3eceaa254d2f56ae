// A fresh phone pulls 10,000 leads into its local store: how long it takes,
// and whether the page stays responsive meanwhile (long tasks, the largest
// gap between animation frames). Results: docs/benchmarks.md.
//
//   cd end2end && npx playwright test --config bench.config.ts
import { test, expect } from "@playwright/test";
import * as fs from "node:fs";
import { PHONE, pushLeads, signedInApi } from "../tests/helpers";

const RECORDS = 10_000;

function lead(i: number) {
  return {
    company: `苏州恒达精密机械有限公司 ${i}`,
    industry: "机械制造",
    staff_size: "200-500人",
    revenue_band: "1亿-5亿",
    contact_name: "王建国",
    contact_title: "采购经理",
    phone: "13812345678",
    email: `wang${i}@hengda.cn`,
    source: "trade_show",
    initial_need: "产线自动化改造，计划明年一季度招标，预算约三百万元",
    grade: "B",
    contacted_at: "2026-11-20T02:00:00Z",
    next_step: "寄送样品并安排技术交流",
    next_step_date: "2026-12-01",
    notes: "客户对交期敏感，需要确认华东仓库存",
  };
}

test("a fresh phone pulls 10,000 leads without freezing the page", async ({ browser, baseURL }) => {
  // The leads, pushed through the protocol as rep4.
  const api = await signedInApi(baseURL, "rep4");
  await pushLeads(api, RECORDS, lead);

  // A new phone: empty store. Watch the main thread from the first script on.
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  await context.addInitScript(() => {
    const w = window as any;
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__longTasks.push([entry.startTime, entry.duration]);
    }).observe({ type: "longtask", buffered: true });
    w.__frameGaps = [];
    let last = performance.now();
    const frame = (now: number) => {
      w.__frameGaps.push(now - last);
      last = now;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  const page = await context.newPage();
  // A first visit's sign-in page runs no app: its form posts.
  await page.goto("/login");
  await page.getByLabel("用户名").fill("rep4");
  await page.getByLabel("密码").fill("demo1234");
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.getByTestId("who")).toBeVisible();
  // Measure from the first frame of the signed-in page to "all synced".
  await page.evaluate(() => {
    const w = window as any;
    w.__longTasks = [];
    w.__frameGaps = [];
    w.__started = performance.now();
  });
  await expect(page.getByTestId("sync-status")).toContainText("已全部同步", { timeout: 300_000 });
  const synced = await page.evaluate(() => performance.now() - (window as any).__started);
  await expect(page.getByTestId("record-list")).toBeVisible({ timeout: 60_000 });
  const listed = await page.evaluate(() => performance.now() - (window as any).__started);
  const count = await page.getByTestId("record-card").count();
  const stats = await page.evaluate(() => {
    const w = window as any;
    const tasks: number[] = w.__longTasks.map((t: number[]) => t[1]);
    const gaps: number[] = w.__frameGaps;
    const longest = w.__longTasks.reduce((a: number[], b: number[]) => (b[1] > a[1] ? b : a), [0, 0]);
    return {
      // When the longest task began, from the same origin as syncedMs.
      longestTaskStartMs: Math.round(longest[0] - w.__started),
      longTasks: tasks.length,
      longTasksOver200ms: tasks.filter((d) => d > 200).length,
      longestTaskMs: Math.round(Math.max(0, ...tasks)),
      longTaskTotalMs: Math.round(tasks.reduce((a, b) => a + b, 0)),
      frames: gaps.length,
      largestFrameGapMs: Math.round(Math.max(0, ...gaps)),
    };
  });
  const result = { records: RECORDS, syncedMs: Math.round(synced), listedMs: Math.round(listed), cardsShown: count, ...stats };
  console.log(JSON.stringify(result, null, 2));
  fs.mkdirSync("output", { recursive: true });
  fs.writeFileSync("output/pull-10k.json", JSON.stringify(result, null, 2));
  expect(count).toBe(200);
  const total = Number((await page.getByTestId("record-count").textContent())?.match(/(\d+) 条/)?.[1]);
  expect(total).toBeGreaterThanOrEqual(RECORDS);
});
