import { expect, test, type Page } from "@playwright/test";
import bcrypt from "bcryptjs";
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { E2E_STATE_FILE } from "../playwright.config";
import { DEMO_ADMIN, expectOnSignIn, signIn } from "./helpers";

// A session ends on the next page load once what it was granted on changes (a password change, a merchant
// role change, the ops role removed): server-rendered pages (page-guard) send the browser to sign in, and
// Auth.js's /api/auth/session no longer answers for it. Each test uses its own user in the e2e database.

const PASSWORD = "revocation-password-1";

function db() {
  const state = JSON.parse(readFileSync(E2E_STATE_FILE, "utf8")) as { databaseUrl: string };
  // E2E only ever touches its own throwaway local database.
  expect(new URL(state.databaseUrl).hostname).toBe("127.0.0.1");
  return postgres(state.databaseUrl, { max: 1, onnotice: () => {} });
}

async function createUser(opts: { role?: "merchant_admin" | "merchant_viewer"; ops?: boolean }): Promise<string> {
  const sql = db();
  try {
    const email = `revoke-${Date.now()}-${Math.floor(Math.random() * 1e6)}@demo.test`;
    const [user] = await sql<{ id: string }[]>`
      insert into users (id, email, name, password_hash, platform_role)
      values (${`usr_e2e${Date.now()}${Math.floor(Math.random() * 1e6)}`}, ${email}, 'Revocation Test', ${bcrypt.hashSync(PASSWORD, 10)}, ${opts.ops ? "ops" : null})
      returning id`;
    if (opts.role) {
      await sql`insert into memberships (user_id, merchant_id, role)
        select ${user!.id}, m.merchant_id, ${opts.role} from memberships m join users u on u.id = m.user_id where u.email = ${DEMO_ADMIN}`;
    }
    return email;
  } finally {
    await sql.end();
  }
}

async function change(query: (sql: postgres.Sql) => Promise<unknown>) {
  const sql = db();
  try {
    await query(sql);
  } finally {
    await sql.end();
  }
}

async function sessionEndpointUser(page: Page): Promise<string | null> {
  const body = (await (await page.request.get("/api/auth/session")).json()) as { user?: { email?: string } } | null;
  return body?.user?.email ?? null;
}

test("a password change ends the session on the next page load", async ({ page }) => {
  const email = await createUser({ role: "merchant_admin" });
  await signIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/dashboard$/);
  expect(await sessionEndpointUser(page)).toBe(email);
  await change((sql) => sql`update users set password_hash = ${bcrypt.hashSync("another-password-2", 10)} where email = ${email}`);
  await page.goto("/dashboard/settings");
  await expectOnSignIn(page);
  expect(await sessionEndpointUser(page)).toBeNull();
});

test("a merchant role change ends the session on the next page load", async ({ page }) => {
  const email = await createUser({ role: "merchant_admin" });
  await signIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/dashboard$/);
  await change((sql) => sql`update memberships set role = 'merchant_viewer' where user_id = (select id from users where email = ${email})`);
  await page.reload();
  await expectOnSignIn(page);
  expect(await sessionEndpointUser(page)).toBeNull();
});

test("removing the ops role ends the session on the next page load", async ({ page }) => {
  const email = await createUser({ ops: true });
  await signIn(page, email, PASSWORD, "/signin?callbackUrl=/ops");
  await expect(page).toHaveURL(/\/ops$/);
  await change((sql) => sql`update users set platform_role = null where email = ${email}`);
  await page.goto("/ops/runs");
  await expectOnSignIn(page);
  expect(await sessionEndpointUser(page)).toBeNull();
});
