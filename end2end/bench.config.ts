import { defineConfig } from "@playwright/test";
import * as path from "node:path";
import base from "./playwright.config";

// Browser-side benchmarks (not part of `scripts/test`): the same server and
// browser as the tests, one benchmark at a time. See docs/benchmarks.md.
// Measured on the release build (`scripts/build-site --release`), as users get it.
export default defineConfig({
  ...base,
  testDir: "./bench",
  timeout: 600_000,
  webServer: {
    ...(base.webServer as object),
    command: `${path.resolve(__dirname, "..")}/target/release/fieldbook serve`,
  },
});
