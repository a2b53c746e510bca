import { expect, type Page } from "@playwright/test";

export const DEMO_PASSWORD = "demo-password";
export const DEMO_ADMIN = "admin@demo.test";
export const DEMO_VIEWER = "viewer@demo.test";
export const DEMO_OPS = "ops@demo.test";

export async function signIn(page: Page, email: string, password = DEMO_PASSWORD, path = "/signin") {
  await page.goto(path);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function expectOnSignIn(page: Page) {
  await expect(page.getByRole("heading", { name: "Sign in to PayBridge" })).toBeVisible();
}
