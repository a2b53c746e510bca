import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { DEMO_ADMIN, DEMO_OPS, e2eDatabaseUrl, signIn } from "./helpers";

// Team and settings (docs/dashboard.md "Settings"): an admin invites a viewer, the link is shown once, the viewer
// accepts it with a new password, lands on the dashboard and sees the team without any admin action; the last
// admin cannot demote themself; a used link says so. And the sign-in bug: ops signing in at /signin land on /ops.

test("ops signing in without a callback land on the ops console, not /no-access", async ({ page }) => {
  await signIn(page, DEMO_OPS);
  await expect(page).toHaveURL(/\/ops$/);
  await page.context().clearCookies();
  // An unsafe callback is ignored, not followed.
  await signIn(page, DEMO_OPS, undefined, `/signin?callbackUrl=${encodeURIComponent("https://evil.example/")}`);
  await expect(page).toHaveURL(/\/ops$/);
});

test("an invited viewer joins through the link and sees no admin actions", async ({ page, browser }) => {
  const email = `Invited.${Date.now()}@Example.test`;
  await signIn(page, DEMO_ADMIN, undefined, "/signin?callbackUrl=/dashboard/settings/team");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Role", { exact: true }).selectOption("merchant_viewer");
  await page.getByRole("button", { name: "Invite" }).click();
  const link = (await page.getByTestId("invitation-link").textContent())!.trim();
  expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);
  await expect(page.getByTestId("invitation-row").filter({ hasText: email.toLowerCase() })).toBeVisible();
  // The last admin cannot step down. Other specs add admins to the demo merchant (session-revocation.spec.ts):
  // the rule needs admin@demo.test to be its only admin, or the demotion would go through and every later spec
  // would sign in as a viewer.
  const sql = postgres(e2eDatabaseUrl(), { max: 1 });
  try {
    await sql`delete from memberships where merchant_id = 'mer_demo' and role = 'merchant_admin' and user_id <> 'usr_demo_admin'`;
  } finally {
    await sql.end();
  }
  await page.reload();
  await page.locator(`[data-testid="member-row"][data-email="${DEMO_ADMIN}"]`).getByTestId("member-role").selectOption("merchant_viewer");
  await expect(page.getByRole("alert").filter({ hasText: "at least one admin" })).toBeVisible();
  await expect(page.locator(`[data-testid="member-row"][data-email="${DEMO_ADMIN}"]`)).toHaveAttribute("data-role", "merchant_admin");

  const invitee = await (await browser.newContext()).newPage();
  await invitee.goto(new URL(link).pathname);
  await expect(invitee.getByRole("heading", { level: 1, name: /^Join / })).toBeVisible();
  await expect(invitee.getByTestId("invitation-role")).toHaveText("Viewer");
  await invitee.getByLabel("Your name").fill("Invited Viewer");
  await invitee.getByLabel("Choose a password").fill("invited-password-1");
  await invitee.getByLabel("Repeat the password").fill("invited-password-1");
  await invitee.getByRole("button", { name: "Accept and join" }).click();
  await expect(invitee).toHaveURL(/\/dashboard$/);
  await invitee.goto("/dashboard/settings/team");
  await expect(invitee.locator(`[data-testid="member-row"][data-email="${email.toLowerCase()}"]`)).toHaveAttribute("data-role", "merchant_viewer");
  await expect(invitee.getByTestId("invite-form")).toHaveCount(0);
  await expect(invitee.getByTestId("remove-member")).toHaveCount(0);
  await expect(invitee.getByTestId("member-role")).toHaveCount(0);
  await expect(invitee.getByTestId("revoke-invitation")).toHaveCount(0);
  await invitee.goto("/dashboard/settings");
  await expect(invitee.getByRole("button", { name: /^Save/ })).toHaveCount(0);

  const again = await (await browser.newContext()).newPage();
  await again.goto(new URL(link).pathname);
  await expect(again.getByRole("heading", { level: 1 })).toHaveText("Invitation already used");
});
