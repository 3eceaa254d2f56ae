// The script of a page the server renders without the app's wasm (the
// sign-in page of a first visit, a customer's survey; app::shell,
// PAGES_WITHOUT_APP_SCRIPT). The page's form works without script; this
// makes the language switch work too, and holds a sign-in until the app's
// files it prefetches (if any) have arrived.

// The language switch: the button carries the cookie that keeps the
// choice, written by the app, so the cookie's format lives in one place.
for (const button of document.querySelectorAll("[data-locale-cookie]")) {
  button.addEventListener("click", () => {
    document.cookie = button.dataset.localeCookie;
    location.reload();
  });
}

// The app's files, prefetched for the next page (each link is marked
// `data-arrived` when its file has come or failed). WebKit (Safari, and
// every browser on iOS) ignores prefetch: there this page fetches them.
const links = [...document.querySelectorAll('link[rel="prefetch"]')];
const prefetching = document.createElement("link").relList.supports("prefetch");
const arrived = links.map((link) => {
  if (!prefetching) {
    return fetch(link.href)
      .then((answer) => answer.arrayBuffer())
      .catch(() => {});
  }
  if (link.dataset.arrived) return Promise.resolve();
  return new Promise((done) => {
    link.addEventListener("load", done);
    link.addEventListener("error", done);
  });
});

// A sign-in tapped while the files are still on their way is posted once
// they have arrived: the page after it would otherwise fetch them again
// beside the prefetch, on the same weak link (measured: twice the bytes,
// and the app 2.5 s later; docs/benchmarks.md). Never held past
// HOLD_AT_MOST_MS, so a failing link still signs in.
const HOLD_AT_MOST_MS = 15_000;
for (const form of document.querySelectorAll('form[method="post"]')) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    const enough = new Promise((done) => setTimeout(done, HOLD_AT_MOST_MS));
    Promise.race([Promise.all(arrived), enough]).then(() => form.submit());
  });
}
// Back to this page from the next one (the browser's page cache keeps it
// as it was): the form can be sent again.
addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const button of document.querySelectorAll('form[method="post"] button')) button.disabled = false;
});
