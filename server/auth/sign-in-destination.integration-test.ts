// Where sign-in lands: the requested page when it is a safe same-origin path, else the ops console for ops
// people without a merchant and the dashboard for everyone else (the bug: the form always sent ops to
// /dashboard, which showed /no-access). Real users and memberships in Postgres.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant, createUser } from "@/test/fixtures";
import { MERCHANT_HOME, OPS_HOME, safeCallbackPath, signInDestinationFor } from "./sign-in-destination";

const APP = "http://localhost:3000";
let t: TestDatabase;
let opsEmail: string;
let merchantEmail: string;
let opsMemberEmail: string;

beforeAll(async () => {
  t = await createTestDatabase();
  const m = await createMerchant(t.db);
  opsEmail = (await createUser(t.db, { ops: true })).email;
  merchantEmail = (await createUser(t.db, { merchantId: m.id, role: "merchant_viewer" })).email;
  opsMemberEmail = (await createUser(t.db, { merchantId: m.id, role: "merchant_admin", ops: true })).email;
});
afterAll(async () => t?.drop());

describe("safeCallbackPath", () => {
  it.each([
    ["/dashboard/payments?status=FAILED#top", "/dashboard/payments?status=FAILED#top"],
    ["/ops/runs", "/ops/runs"],
    [`${APP}/dashboard/settings`, "/dashboard/settings"],
  ])("keeps %s", (input, expected) => expect(safeCallbackPath(input, APP)).toBe(expected));

  it.each([
    "",
    "//evil.example/x",
    // Dot segments and doubled slashes that parse into a protocol-relative path (found in review).
    "/..//evil.example",
    "/.//evil.example/x",
    "/%2e%2e//evil.example",
    "http://localhost:3000//evil.example",
    "/\\evil.example/x",
    "https://evil.example/dashboard",
    "http://localhost:3001/dashboard",
    "javascript:alert(1)",
    "dashboard",
    "?x=1",
    "/signin",
    "/signin?callbackUrl=/ops",
    "/api/auth/signout",
    "/dash\nboard",
    `/${"a".repeat(3000)}`,
  ])("refuses %j", (input) => expect(safeCallbackPath(input, APP)).toBeUndefined());
});

describe("signInDestinationFor", () => {
  it("sends ops people without a merchant to the ops console when no page was asked for", async () => {
    expect(await signInDestinationFor(t.db, { email: opsEmail, callbackUrl: "", appOrigin: APP })).toBe(OPS_HOME);
    // The email as typed: case and spaces do not matter.
    expect(await signInDestinationFor(t.db, { email: `  ${opsEmail.toUpperCase()} `, callbackUrl: "", appOrigin: APP })).toBe("/ops");
  });

  it("sends merchant users, and ops people who are also members, to the dashboard", async () => {
    expect(await signInDestinationFor(t.db, { email: merchantEmail, callbackUrl: "", appOrigin: APP })).toBe(MERCHANT_HOME);
    expect(await signInDestinationFor(t.db, { email: opsMemberEmail, callbackUrl: undefined, appOrigin: APP })).toBe("/dashboard");
  });

  it("honours a safe requested page for anyone, and ignores an unsafe one", async () => {
    expect(await signInDestinationFor(t.db, { email: opsEmail, callbackUrl: "/ops/exceptions?kind=job", appOrigin: APP })).toBe("/ops/exceptions?kind=job");
    expect(await signInDestinationFor(t.db, { email: merchantEmail, callbackUrl: "/dashboard/payments", appOrigin: APP })).toBe("/dashboard/payments");
    expect(await signInDestinationFor(t.db, { email: opsEmail, callbackUrl: "https://evil.example/ops", appOrigin: APP })).toBe("/ops");
    expect(await signInDestinationFor(t.db, { email: merchantEmail, callbackUrl: "//evil.example", appOrigin: APP })).toBe("/dashboard");
  });

  it("an ops user who loses the ops role goes to the dashboard; an unknown email too", async () => {
    await t.db.update(users).set({ platformRole: null }).where(eq(users.email, opsEmail));
    expect(await signInDestinationFor(t.db, { email: opsEmail, callbackUrl: "", appOrigin: APP })).toBe("/dashboard");
    expect(await signInDestinationFor(t.db, { email: "nobody@example.test", callbackUrl: "", appOrigin: APP })).toBe("/dashboard");
  });
});
