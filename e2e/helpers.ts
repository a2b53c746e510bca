import { expect, type Page } from "@playwright/test";

export const DEMO_PASSWORD = "demo-password";
export const DEMO_ADMIN = "admin@demo.test";
export const DEMO_VIEWER = "viewer@demo.test";
export const DEMO_OPS = "ops@demo.test";

/** Signs in through the form and waits until the app has left the sign-in page. */
export async function signIn(page: Page, email: string, password = DEMO_PASSWORD, path = "/signin") {
  await submitSignIn(page, email, password, path);
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
}

export async function submitSignIn(page: Page, email: string, password: string, path = "/signin") {
  await page.goto(path);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function expectOnSignIn(page: Page) {
  await expect(page.getByRole("heading", { name: "Sign in to PayBridge" })).toBeVisible();
}
