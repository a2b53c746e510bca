import { expect, test } from "@playwright/test";
import { DEMO_ADMIN, DEMO_OPS, DEMO_PASSWORD, DEMO_VIEWER, expectOnSignIn, signIn, submitSignIn } from "./helpers";

test("the demo merchant signs in and sees the dashboard shell", async ({ page }) => {
  await signIn(page, DEMO_ADMIN);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { level: 1, name: "Demo Merchant" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" })).toBeVisible();
  await expect(page.getByTestId("current-user")).toHaveText("admin@demo.test · Admin");
  await expect(page.getByRole("cell", { name: "Nairobi Books" })).toBeVisible();
  await expect(page.getByRole("cell", { name: "Mombasa Crafts" })).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expectOnSignIn(page);
  await page.goto("/dashboard");
  await expectOnSignIn(page);
});

test("a wrong password gets a clear message and no session", async ({ page }) => {
  await submitSignIn(page, DEMO_ADMIN, "not-the-password");
  await expect(page.getByRole("alert").filter({ hasText: /\S/ })).toHaveText("Email or password is incorrect.");
  await page.goto("/dashboard");
  await expectOnSignIn(page);
});

test("signed out, the dashboard sends you to sign in and back", async ({ page }) => {
  await page.goto("/dashboard/settings");
  await expectOnSignIn(page);
  await page.getByLabel("Email").fill(DEMO_ADMIN);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/dashboard\/settings$/);
  await expect(page.getByLabel("Business name")).toBeEnabled();
});

test("a viewer cannot edit settings; an admin can", async ({ page }) => {
  await signIn(page, DEMO_VIEWER);
  await page.goto("/dashboard/settings");
  await expect(page.getByLabel("Business name")).toBeDisabled();
  await expect(page.getByText("Only merchant admins can change settings.")).toBeVisible();

  await page.context().clearCookies();
  await signIn(page, DEMO_ADMIN, undefined, "/signin?callbackUrl=/dashboard/settings");
  const name = page.getByLabel("Business name");
  await name.fill("");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByText("Name is required")).toBeVisible();
  await name.fill("Demo Merchant Ltd");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByTestId("profile-form").getByRole("status")).toHaveText("Saved.");
  await expect(page.getByRole("heading", { level: 1, name: "Demo Merchant Ltd" })).toBeVisible();
  // Put the name back so other tests see the seeded one.
  await name.fill("Demo Merchant");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Demo Merchant" })).toBeVisible();
});

test("the ops console is for ops only", async ({ page }) => {
  await signIn(page, DEMO_ADMIN);
  await expect(page).toHaveURL(/\/dashboard$/);
  await page.goto("/ops");
  await expect(page.getByRole("heading", { name: /have access to this page/ })).toBeVisible();

  await page.context().clearCookies();
  await signIn(page, DEMO_OPS, undefined, "/signin?callbackUrl=/ops");
  await expect(page).toHaveURL(/\/ops$/);
  await expect(page.getByRole("cell", { name: "Demo Merchant" })).toBeVisible();
});

test("password guessing is slowed down: after 5 wrong passwords from this browser the form says how long to wait", async ({ page }) => {
  const email = `guess-${Date.now()}@demo.test`;
  for (let i = 0; i < 5; i++) {
    await submitSignIn(page, email, `wrong-${i}`);
    await expect(page.getByRole("alert").filter({ hasText: /\S/ })).toHaveText("Email or password is incorrect.");
  }
  await submitSignIn(page, email, "wrong-again");
  await expect(page.getByRole("alert").filter({ hasText: /\S/ })).toHaveText(/^Too many sign-in attempts\. Try again in \d+ seconds\.$/);
});

test("sign out everywhere ends this session and the ones on other devices", async ({ browser }) => {
  const [laptop, phone] = [await browser.newContext(), await browser.newContext()];
  const [here, there] = [await laptop.newPage(), await phone.newPage()];
  await signIn(here, DEMO_VIEWER);
  await signIn(there, DEMO_VIEWER);
  await here.goto("/dashboard/settings");
  await here.getByRole("button", { name: "Sign out everywhere" }).click();
  await expectOnSignIn(here);
  await here.goto("/dashboard");
  await expectOnSignIn(here);
  await there.goto("/dashboard");
  await expectOnSignIn(there);
  await Promise.all([laptop.close(), phone.close()]);
});
