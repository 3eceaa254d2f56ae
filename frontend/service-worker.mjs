// Writes <site>/sw.js for a built site with Workbox's generateSW: a precache
// of exactly this build (the offline shell, the hashed wasm, JS and CSS, the
// icons and the web manifest) and one runtime rule: a page navigation goes
// to the network and, when that fails or takes longer than
// PAGE_TIMEOUT_SECONDS, gets the precached shell. Every build runs it, so the
// precache list is always this build's.
//
//   node frontend/service-worker.mjs [site root, default target/site]
//
// Why Workbox rather than a hand-written worker: see docs/sync.md.
import { createRequire } from "node:module";
import path from "node:path";

// The project's one npm package (end2end/) holds Workbox.
const require = createRequire(new URL("../end2end/package.json", import.meta.url));
const { generateSW } = require("workbox-build");

const site = process.argv[2] ?? "target/site";
// How long a page navigation waits for the server before the app starts
// from the precached shell instead.
const PAGE_TIMEOUT_SECONDS = 4;

const { count, size, warnings } = await generateSW({
  globDirectory: site,
  globPatterns: ["shell.html", "pkg/*.{js,wasm,css}", "*.{svg,png,webmanifest}"],
  swDest: path.join(site, "sw.js"),
  // cargo-leptos names these by content hash (22 characters): the name is
  // the revision.
  dontCacheBustURLsMatching: /\.[A-Za-z0-9_-]{22}\.(js|wasm|css)$/,
  // An unoptimised (debug) wasm is tens of MB; it must be kept too.
  maximumFileSizeToCacheInBytes: 128 * 1024 * 1024,
  runtimeCaching: [
    {
      urlPattern: ({ request, url }) =>
        request.mode === "navigate" && !url.pathname.startsWith("/api/"),
      // NetworkFirst only for its timeout: a page that has not answered in
      // PAGE_TIMEOUT_SECONDS (a weak signal in a basement) gets the shell,
      // as a failed one does, instead of a blank screen until the network
      // gives up. Workbox allows the timeout on NetworkFirst alone.
      handler: "NetworkFirst",
      options: {
        networkTimeoutSeconds: PAGE_TIMEOUT_SECONDS,
        cacheName: "fieldbook-pages-never-stored",
        plugins: [
          {
            // Pages are never cached: a rendered page holds a user's data.
            cacheWillUpdate: async () => null,
            // So the "cached page" NetworkFirst looks for on a timeout is
            // always the precached shell (stored as shell.html?__WB_REVISION__=…).
            cachedResponseWillBeUsed: async ({ cachedResponse }) =>
              cachedResponse ?? (await caches.match("/shell.html", { ignoreSearch: true })),
          },
        ],
        precacheFallback: { fallbackURL: "/shell.html" },
      },
    },
  ],
  // A new build takes over at once. The page never loads build files after
  // it starts (one wasm, no code splitting), so an open page keeps working.
  skipWaiting: true,
  clientsClaim: true,
  cleanupOutdatedCaches: true,
  inlineWorkboxRuntime: true,
  mode: "production",
  sourcemap: false,
});

for (const warning of warnings) console.warn(`service worker: ${warning}`);
if (!warnings.length && count < 4) {
  console.error(`service worker: only ${count} files to precache in ${site}; is the site built?`);
  process.exit(1);
}
console.log(`service worker: ${site}/sw.js precaches ${count} files (${(size / 1048576).toFixed(1)} MB)`);
