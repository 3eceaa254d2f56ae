import { defineConfig } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// One fresh SQLite database per run, loaded with the demo team.
const port = Number(process.env.FIELDBOOK_E2E_PORT ?? 3100);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fieldbook-e2e-"));
const root = path.resolve(__dirname, "..");

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  // On CI a failed test runs once more and, if it then passes, is
  // reported as flaky in the list (a test that fails twice fails the run).
  retries: process.env.CI ? 1 : 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `${root}/target/debug/fieldbook serve`,
    cwd: root,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      DATABASE_URL: `sqlite://${dataDir}/fieldbook.db`,
      FIELDBOOK_ADDR: `127.0.0.1:${port}`,
      FIELDBOOK_DEMO: "1",
      // Deadlines that pass during a test are raised within a second.
      FIELDBOOK_CLOCK_INTERVAL: "1",
      LEPTOS_SITE_ROOT: `${root}/target/site`,
      RUST_LOG: process.env.FIELDBOOK_E2E_LOG ?? "warn",
    },
  },
});
