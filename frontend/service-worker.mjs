// Writes <site>/sw.js for a built site with Workbox's generateSW: a precache
// of exactly this build (the offline shell, the hashed wasm, JS and CSS, the
// icons and the web manifest) and one navigation rule: every page opens
// from the precached shell at once, with or without a network, and the app
// renders it from the phone's store (the app-shell model). Every build runs
// it, so the precache list is always this build's.
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
const { count, size, warnings } = await generateSW({
  globDirectory: site,
  globPatterns: ["shell.html", "pkg/*.{js,wasm,css}", "*.{svg,png,webmanifest}"],
  swDest: path.join(site, "sw.js"),
  // cargo-leptos names these by content hash (22 characters): the name is
  // the revision.
  dontCacheBustURLsMatching: /\.[A-Za-z0-9_-]{22}\.(js|wasm|css)$/,
  // An unoptimised (debug) wasm is tens of MB; it must be kept too.
  maximumFileSizeToCacheInBytes: 128 * 1024 * 1024,
  // Every page navigation is answered with the precached shell, at once:
  // no wait for the network on a weak signal (it used to wait up to 4 s
  // for the server's page), and no rendered page (which holds a user's
  // data) is ever stored. The app then reads the phone's store, opens as
  // the user last signed in here and asks the server in the background
  // (app::auth::who_is_signed_in). Left to the network: the API (a photo
  // opened in its own tab) and the survey link, which is for customers
  // without an account and is answered by the server.
  navigateFallback: "/shell.html",
  navigateFallbackDenylist: [/^\/api\//, /^\/survey\//, /^\/healthz$/],
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
