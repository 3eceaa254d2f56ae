// Opening the app on a phone: the first visit and a later open on a weak
// 4G signal (Chromium's network emulation: 1.6 Mbit/s down, 750 kbit/s up,
// 150 ms latency), and a later open with no network. "Usable" is the page
// live (hydrated or mounted) with the signed-in user's name and their first
// lead card shown; the first visit is the sign-in page, live. Also the bytes
// the first visit transfers (wasm, JS, CSS and the page, as sent).
// Results: docs/benchmarks.md.
//
//   scripts/build-site --release
//   cd end2end && npx playwright test --config bench.config.ts open
import { test, expect, Page, CDPSession } from "@playwright/test";
import { PHONE, hydrated, serviceWorkerReady } from "../tests/helpers";

const WEAK_4G = {
  offline: false,
  latency: 150,
  downloadThroughput: 1_600_000 / 8,
  uploadThroughput: 750_000 / 8,
};
const RUNS = 5;

async function usable(page: Page) {
  await hydrated(page);
  await expect(page.getByTestId("who")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("lead-card").first()).toBeVisible({ timeout: 30_000 });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

test("the first visit and later opens on a weak signal and with none", async ({ browser }) => {
  test.setTimeout(600_000);
  const first: number[] = [];
  const bytes: number[] = [];
  const weak: number[] = [];
  const offline: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const cdp: CDPSession = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", WEAK_4G);
    let sent = 0;
    cdp.on("Network.loadingFinished", (event) => {
      sent += event.encodedDataLength;
    });

    // First visit: nothing cached; the sign-in page until it is live.
    let started = Date.now();
    await page.goto("/login");
    await hydrated(page);
    first.push(Date.now() - started);
    bytes.push(sent);

    await page.getByLabel("用户名").fill("rep1");
    await page.getByLabel("密码").fill("demo1234");
    await page.getByRole("button", { name: "登录" }).click();
    await usable(page);
    await expect(page.getByTestId("sync-status")).toContainText("已全部同步", { timeout: 60_000 });
    await serviceWorkerReady(page);

    // A later open on the same weak signal.
    started = Date.now();
    await page.reload();
    await usable(page);
    weak.push(Date.now() - started);

    // A later open with no network at all.
    await cdp.send("Network.emulateNetworkConditions", { ...WEAK_4G, offline: true });
    await context.setOffline(true);
    started = Date.now();
    await page.reload();
    await usable(page);
    offline.push(Date.now() - started);
    await context.close();
  }
  const row = (name: string, values: number[], unit: string) =>
    `| ${name} | ${median(values)} ${unit} | ${Math.min(...values)}–${Math.max(...values)} ${unit} |`;
  console.log(
    [
      `| measure (${RUNS} runs) | median | range |`,
      "|---|---:|---:|",
      row("first visit: bytes transferred", bytes, "B"),
      row("first visit: sign-in page live, weak 4G", first, "ms"),
      row("later open: usable, weak 4G", weak, "ms"),
      row("later open: usable, no network", offline, "ms"),
    ].join("\n"),
  );
});
