import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// Browser-side benchmarks (not part of `scripts/test`): the same server and
// browser as the tests, one benchmark at a time. See docs/benchmarks.md.
export default defineConfig({
  ...base,
  testDir: "./bench",
  timeout: 600_000,
});
