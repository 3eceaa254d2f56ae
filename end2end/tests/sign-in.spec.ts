import { expect, test } from "@playwright/test";
import { PHONE } from "./helpers";

// On a weak signal a rep taps "登录" before the page's script has arrived:
// the form itself must post (never a GET that puts the password in the
// URL), and the server signs in and redirects.
test.describe("the sign-in form without script", () => {
  test.use({ javaScriptEnabled: false, viewport: PHONE });

  test("posts, signs in, and never puts the password in a URL", async ({ page }) => {
    const urls: string[] = [];
    page.on("request", (request) => urls.push(request.url()));

    await page.goto("/login");
    await page.getByLabel("用户名").fill("rep1");
    await page.getByLabel("密码").fill("wrong-password");
    await page.getByRole("button", { name: "登录" }).click();
    await expect(page).toHaveURL(/\/login\?error=bad_credentials$/);
    await expect(page.getByRole("alert")).toHaveText("用户名或密码错误。");
    await page.screenshot({ path: "output/sign-in-no-script-error-390.png" });

    await page.getByLabel("用户名").fill("rep1");
    await page.getByLabel("密码").fill("demo1234");
    await page.getByRole("button", { name: "登录" }).click();
    await expect(page).toHaveURL(/\/$/);
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => c.name)).toContain("fb_session");
    for (const url of urls) {
      expect(url).not.toContain("demo1234");
      expect(url).not.toContain("wrong-password");
      expect(url).not.toContain("password=");
    }
  });
});
