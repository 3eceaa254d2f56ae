// Opening the app on a phone on a weak 4G signal: the first visit, a later
// open, and a later open with no network. The weak link is a proxy in front
// of the server that every request of the phone passes, the service
// worker's included (Chromium's own network emulation does not slow a
// service worker's fetches): 150 ms more per round trip, and answers paced
// to 1.6 Mbit/s shared by all of them. "Usable" is the page live (hydrated
// or mounted) with the signed-in user's name and their first lead card
// shown; the first visit is the sign-in page, usable (shown with its style:
// its form works without the app's script, which it only prefetches), then
// the tap on "登录" after `TYPING_MS` (default 0, the worst case: typing
// overlaps the prefetch) until the home page is usable. Bytes are the
// answers' bodies as sent (brotli where the browser accepts it).
// A customer's survey link, the other page a first visit opens, is timed
// on the same link until its questions are shown, then from the tap on
// "提交" until the thanks.
// Results: docs/benchmarks.md.
//
//   scripts/build-site --release
//   cd end2end && [TYPING_MS=5000] npx playwright test --config bench.config.ts open
import { test, expect, Page, request } from "@playwright/test";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { PHONE, serviceWorkerReady, signedInApi } from "../tests/helpers";

const ROUND_TRIP_MS = 150;
const DOWN_BYTES_PER_MS = 1_600_000 / 8 / 1000;
const RUNS = 5;
// How long the rep takes to type a username and password.
const TYPING_MS = Number(process.env.TYPING_MS ?? 0);

/** The weak link: an HTTP proxy that delays each request by a round trip
 * and paces every answer's bytes through one shared downlink. Like a
 * reverse proxy, it addresses the server by the server's own URL. */
async function weak4g(target: string) {
  let downFree = Date.now();
  const sent = { bytes: 0 };
  const server = http.createServer((req, res) => {
    const upstreamUrl = new URL(req.url ?? "/", target);
    const headers = { ...req.headers, host: upstreamUrl.host };
    if (headers.origin) headers.origin = upstreamUrl.origin;
    setTimeout(() => {
      const upstream = http.request(upstreamUrl, { method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // The answer ends after its last chunk is written, never on a
        // timer of its own: two timers for the same moment, computed a
        // millisecond apart, ended an answer before its last chunk (the
        // browser then refused the script: ERR_CONTENT_LENGTH_MISMATCH).
        let writing = false;
        let ended = false;
        answer.on("data", (chunk: Buffer) => {
          answer.pause();
          writing = true;
          downFree = Math.max(Date.now(), downFree) + chunk.length / DOWN_BYTES_PER_MS;
          setTimeout(() => {
            sent.bytes += chunk.length;
            res.write(chunk);
            writing = false;
            if (ended) res.end();
            else answer.resume();
          }, downFree - Date.now());
        });
        answer.on("end", () => {
          ended = true;
          if (!writing) res.end();
        });
      });
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    }, ROUND_TRIP_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The page is live (a stuck start fails the run instead of holding it). */
async function hydrated(page: Page) {
  await page.waitForFunction(() => (window as any).__fieldbook_hydrated === true, null, { timeout: 60_000 });
}

async function usable(page: Page) {
  await hydrated(page);
  await expect(page.getByTestId("who")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("record-card").first()).toBeVisible({ timeout: 30_000 });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** One measure's row of the results table: median and range. */
function row(name: string, values: number[], unit: string): string {
  return `| ${name} | ${median(values)} ${unit} | ${Math.min(...values)}–${Math.max(...values)} ${unit} |`;
}

function printTable(rows: string[]) {
  console.log([`| measure (${RUNS} runs) | median | range |`, "|---|---:|---:|", ...rows].join("\n"));
}

test("the first visit and later opens on a weak signal and with none", async ({ browser, baseURL }) => {
  test.setTimeout(600_000);
  const link = await weak4g(baseURL!);
  const first: number[] = [];
  const firstBytes: number[] = [];
  const signedIn: number[] = [];
  const signedInBytes: number[] = [];
  const installBytes: number[] = [];
  const weak: number[] = [];
  const offline: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ baseURL: link.url, viewport: PHONE, isMobile: true, hasTouch: true });
      const page = await context.newPage();

      // First visit: nothing cached; the sign-in page until it is shown
      // with its style (the load event: the prefetch does not hold it).
      link.sent.bytes = 0;
      let started = Date.now();
      await page.goto("/login", { waitUntil: "load" });
      await expect(page.getByRole("button", { name: "登录" })).toBeVisible();
      first.push(Date.now() - started);
      firstBytes.push(link.sent.bytes);
      console.log(`run ${run}: first visit usable`);

      await page.getByLabel("用户名").fill("rep1");
      await page.getByLabel("密码").fill("demo1234");
      await page.waitForTimeout(TYPING_MS);
      started = Date.now();
      await page.getByRole("button", { name: "登录" }).click();
      await usable(page);
      signedIn.push(Date.now() - started);
      signedInBytes.push(link.sent.bytes);
      await expect(page.getByTestId("sync-status")).toContainText("已全部同步", { timeout: 60_000 });
      // What the service worker then fetches to keep this build.
      await serviceWorkerReady(page);
      installBytes.push(link.sent.bytes);

      // A later open on the same weak link.
      console.log(`run ${run}: signed in`);
      started = Date.now();
      await page.reload();
      await usable(page);
      weak.push(Date.now() - started);

      console.log(`run ${run}: later open`);
      // A later open with no network at all.
      await context.setOffline(true);
      started = Date.now();
      await page.reload();
      await usable(page);
      offline.push(Date.now() - started);
      await context.close();
    }
  } finally {
    link.close();
  }
  printTable([
    row("first visit: bytes until the sign-in page is usable", firstBytes, "B"),
    row("first visit: sign-in page usable", first, "ms"),
    row("first visit: bytes until the signed-in home is usable", signedInBytes, "B"),
    row("first visit: tap on sign-in to home usable", signedIn, "ms"),
    row("first visit: bytes once the service worker is installed", installBytes, "B"),
    row("later open: usable", weak, "ms"),
    row("later open, no network: usable", offline, "ms"),
  ]);
});

/** A served ticket's survey link, sent by the desk: its token. */
async function surveyLink(baseURL: string): Promise<string> {
  const desk = await signedInApi(baseURL, "agent1");
  const tech = await request.newContext({ baseURL });
  const technician = await (await tech.post("/api/auth/login", { data: { username: "tech1", password: "demo1234" } })).json();
  const ticket = crypto.randomUUID();
  const command = (name: string, fields: object) => ({
    id: crypto.randomUUID(), entity: "ticket", record_id: ticket, base_version: 1, op: "command", command: name, fields,
  });
  const mutations = [
    {
      id: crypto.randomUUID(), entity: "ticket", record_id: ticket, base_version: 0, op: "upsert",
      fields: {
        customer_name: "宁波远航物流", channel: "hotline", ticket_type: "consultation",
        description: "设备保养周期咨询", opened_at: new Date().toISOString(),
      },
    },
    command("dispatch", { technician: technician.id }),
    command("resolve", {}),
    command("send_survey", {}),
  ];
  for (const mutation of mutations) {
    const pushed = await desk.post("/api/sync/push", { data: { batch: { client_id: crypto.randomUUID(), mutations: [mutation] } } });
    expect((await pushed.json()).results[0].status).toBe("applied");
  }
  const held = await (await desk.post("/api/sync/records", { data: { entity: "ticket", ids: [ticket] } })).json();
  await desk.dispose();
  await tech.dispose();
  return held[0].fields.survey_token;
}

test("a customer's survey link on a weak signal", async ({ browser, baseURL }) => {
  test.setTimeout(600_000);
  const link = await weak4g(baseURL!);
  const shown: number[] = [];
  const shownBytes: number[] = [];
  const answered: number[] = [];
  const answeredBytes: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const token = await surveyLink(baseURL!);
      const context = await browser.newContext({ baseURL: link.url, viewport: PHONE, isMobile: true, hasTouch: true });
      const page = await context.newPage();
      link.sent.bytes = 0;
      let started = Date.now();
      await page.goto(`/survey/${token}`, { waitUntil: "load" });
      await expect(page.getByTestId("survey-submit")).toBeVisible();
      shown.push(Date.now() - started);
      shownBytes.push(link.sent.bytes);
      for (const question of ["survey_speed", "survey_attitude", "survey_result"]) {
        await page.getByTestId(`survey-${question}`).selectOption("5");
      }
      started = Date.now();
      await page.getByTestId("survey-submit").click();
      await expect(page.getByTestId("survey-thanks")).toBeVisible({ timeout: 60_000 });
      answered.push(Date.now() - started);
      answeredBytes.push(link.sent.bytes);
      await context.close();
    }
  } finally {
    link.close();
  }
  printTable([
    row("survey link: bytes until the questions are shown", shownBytes, "B"),
    row("survey link: questions shown", shown, "ms"),
    row("survey link: bytes until the thanks", answeredBytes, "B"),
    row("survey link: tap on submit to the thanks", answered, "ms"),
  ]);
});
