// The script of a page the server renders without the app's wasm (the
// sign-in page of a first visit; app::shell, PAGES_WITHOUT_APP_SCRIPT).
// The page's form works without script; this makes the language switch
// work too. The button carries the cookie that keeps the choice, written
// by the app, so the cookie's format lives in one place.
for (const button of document.querySelectorAll("[data-locale-cookie]")) {
  button.addEventListener("click", () => {
    document.cookie = button.dataset.localeCookie;
    location.reload();
  });
}
