// The tRPC route handler itself (app/api/trpc/[trpc]/route.ts), called with real Requests and real session
// cookies against the test database: who may call it (same-origin browsers only for anything that changes
// state), which sessions it accepts, and that a bad cookie is a client's problem, never a 500.
// DATABASE_URL and AUTH_SECRET are set before the first import of server/env.js (which reads them once).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_ABSOLUTE_MAX_AGE_MS } from "@/server/auth/session";
import { sessionCookie, TEST_AUTH_SECRET } from "@/server/auth/test-helpers";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";

const APP = "http://localhost:3000";
const HOST = "localhost:3000";
/** What Next.js puts on every request it hands to a route (it sets x-forwarded-proto when no proxy did). */
const NEXT_HEADERS = { host: HOST, "x-forwarded-proto": "http" };
const EVIL = "https://evil.example";

let t: TestDatabase;
let route: typeof import("@/app/api/trpc/[trpc]/route");
let fixtures: typeof import("@/test/fixtures");
let merchant: { id: string; name: string };
let adminId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  pointRoutesAt(t, { AUTH_SECRET: TEST_AUTH_SECRET });
  route = await import("@/app/api/trpc/[trpc]/route");
  fixtures = await import("@/test/fixtures");
  const { env } = await import("@/server/env.js");
  expect(env.APP_URL).toBe(APP);
  merchant = await fixtures.createMerchant(t.db, "Route Traders");
  adminId = (await fixtures.createUser(t.db, { merchantId: merchant.id, role: "merchant_admin" })).id;
});
afterAll(async () => t?.drop());

type HeaderMap = Record<string, string>;
const sameOrigin: HeaderMap = { origin: APP, "sec-fetch-site": "same-origin" };

function get(path: string, headers: HeaderMap = {}): Promise<Response> {
  return route.GET(new Request(`${APP}/api/trpc/${path}`, { headers: { ...NEXT_HEADERS, ...headers } }));
}
function post(path: string, input: unknown, headers: HeaderMap = {}): Promise<Response> {
  const body = JSON.stringify({ json: input });
  return route.POST(new Request(`${APP}/api/trpc/${path}`, { method: "POST", headers: { ...NEXT_HEADERS, "content-type": "application/json", ...headers }, body }));
}
async function errorOf(res: Response): Promise<{ message: string; code: string; appCode?: string }> {
  const body = (await res.json()) as { error: { json: { message: string; data: { code: string; appCode?: string } } } };
  return { message: body.error.json.message, code: body.error.json.data.code, appCode: body.error.json.data.appCode };
}
const fresh = (userId: string, epoch = 0) => sessionCookie({ userId, signedInAtMs: Date.now(), epoch });
async function merchantName(): Promise<string> {
  return String((await t.sql`select name from merchants where id = ${merchant.id}`)[0]!.name);
}
async function auditRows(): Promise<number> {
  return Number((await t.sql`select count(*)::int as n from audit_log where merchant_id = ${merchant.id}`)[0]!.n);
}

describe("the pb_merchant cookie", () => {
  it("a malformed value is ignored (the default merchant is used), never a 500", async () => {
    const res = await get("merchant.me", { cookie: `${await fresh(adminId)}; pb_merchant=%E0%A4%A` });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { data: { json: { merchant: { id: string } } } } };
    expect(body.result.data.json.merchant.id).toBe(merchant.id);
  });

  it("a well-formed value still selects the merchant (another one's is not found)", async () => {
    const other = await fixtures.createMerchant(t.db);
    const res = await get("merchant.me", { cookie: `${await fresh(adminId)}; pb_merchant=${encodeURIComponent(other.id)}` });
    expect(res.status).toBe(404);
  });
});

describe("cross-origin requests", () => {
  it("a POST from another origin gets 403 with a clear error, and no procedure runs", async () => {
    const cookie = await fresh(adminId);
    const [nameBefore, auditBefore] = [await merchantName(), await auditRows()];
    const res = await post("merchant.update", { name: "Hijacked" }, { cookie, origin: EVIL, "sec-fetch-site": "cross-site" });
    expect(res.status).toBe(403);
    const err = await errorOf(res);
    expect(err).toMatchObject({ code: "FORBIDDEN", appCode: "forbidden" });
    expect(err.message).toMatch(/origin/i);
    expect(await merchantName()).toBe(nameBefore);
    expect(await auditRows()).toBe(auditBefore);
  });

  it("a multipart form POST from another site is refused before it reaches a procedure", async () => {
    const cookie = await fresh(adminId);
    const auditBefore = await auditRows();
    const form = new FormData();
    form.set("name", "Hijacked by form");
    const crossSite: HeaderMap[] = [{ origin: EVIL }, { "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }, { referer: `${EVIL}/page` }];
    for (const headers of crossSite) {
      const req = new Request(`${APP}/api/trpc/merchant.update`, { method: "POST", headers: { ...NEXT_HEADERS, cookie, ...headers }, body: form });
      const res = await route.POST(req);
      expect(res.status, JSON.stringify(headers)).toBe(403);
    }
    expect(await auditRows()).toBe(auditBefore);
  });

  it("a POST with no Origin, no Sec-Fetch-Site and no Referer (not a browser page of ours) is refused", async () => {
    const res = await post("merchant.update", { name: "Scripted" }, { cookie: await fresh(adminId) });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toMatch(/Origin/);
    expect(await merchantName()).not.toBe("Scripted");
  });

  it('refuses "Origin: null" (sandboxed frames, opaque redirects)', async () => {
    expect((await post("merchant.update", { name: "Null" }, { cookie: await fresh(adminId), origin: "null" })).status).toBe(403);
  });

  it("same-origin browser POSTs work: by Origin, by Sec-Fetch-Site alone, by Referer alone", async () => {
    const cookie = await fresh(adminId);
    const ours: HeaderMap[] = [{ origin: APP }, { "sec-fetch-site": "same-origin" }, { referer: `${APP}/dashboard/settings` }];
    for (const [i, headers] of ours.entries()) {
      const res = await post("merchant.update", { name: `Route Traders ${i}` }, { cookie, ...headers });
      expect(res.status, JSON.stringify(headers)).toBe(200);
      expect(await merchantName()).toBe(`Route Traders ${i}`);
    }
  });

  it("behind a proxy: the public host it forwards is our origin too; a foreign Origin still is not", async () => {
    const cookie = await sessionCookie({ userId: adminId, signedInAtMs: Date.now(), epoch: 0 }, { https: true });
    const proxied = { host: "paybridge:3000", "x-forwarded-host": "pay.example.com", "x-forwarded-proto": "https", cookie };
    expect((await post("merchant.update", { name: "Proxied" }, { ...proxied, origin: "https://pay.example.com" })).status).toBe(200);
    expect((await post("merchant.update", { name: "Proxied evil" }, { ...proxied, origin: EVIL })).status).toBe(403);
    // Same host, wrong scheme: a different origin.
    expect((await post("merchant.update", { name: "Proxied http" }, { ...proxied, origin: "http://pay.example.com" })).status).toBe(403);
    expect(await merchantName()).toBe("Proxied");
  });

  it("GET queries: refused when a browser says they come from another site, served otherwise", async () => {
    const cookie = await fresh(adminId);
    expect((await get("merchant.me", { cookie, "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await get("merchant.me", { cookie, origin: EVIL })).status).toBe(403);
    expect((await get("merchant.me", { cookie, "sec-fetch-site": "same-origin" })).status).toBe(200);
    expect((await get("merchant.me", { cookie })).status).toBe(200);
  });
});

describe("sessions", () => {
  it("a fresh token works", async () => {
    const res = await get("auth.whoami", { cookie: await fresh(adminId) });
    expect(res.status).toBe(200);
  });

  it("sign out everywhere: refuses the token it was called with and every other one issued before; a new sign-in works", async () => {
    const user = await fixtures.createUser(t.db, { merchantId: merchant.id, role: "merchant_viewer" });
    const [laptop, phone] = [await fresh(user.id), await fresh(user.id)];
    expect((await get("auth.whoami", { cookie: phone })).status).toBe(200);
    const res = await post("auth.signOutEverywhere", undefined, { cookie: laptop, ...sameOrigin });
    expect(res.status).toBe(200);
    for (const cookie of [laptop, phone]) {
      const refused = await get("auth.whoami", { cookie });
      expect(refused.status).toBe(401);
      // Auth.js's jwt callback already ends the revoked token (server/auth/config.ts): the caller is signed out.
      expect(await errorOf(refused)).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/sign in/i) });
    }
    const epoch = Number((await t.sql`select session_epoch from users where id = ${user.id}`)[0]!.session_epoch);
    expect((await get("auth.whoami", { cookie: await fresh(user.id, epoch) })).status).toBe(200);
    const audit = await t.sql`select action from audit_log where actor_user_id = ${user.id} and target_id = ${user.id}`;
    expect(audit.map((r) => r.action)).toEqual(["user.sessions_revoked"]);
  });

  it("sign out everywhere is refused to a signed-out caller and to another origin", async () => {
    expect((await post("auth.signOutEverywhere", undefined, sameOrigin)).status).toBe(401);
    const user = await fixtures.createUser(t.db);
    const cookie = await fresh(user.id);
    expect((await post("auth.signOutEverywhere", undefined, { cookie, origin: EVIL })).status).toBe(403);
    expect((await get("auth.whoami", { cookie })).status).toBe(200);
  });

  it("a password change revokes the user's sessions at once; an unrelated profile change does not", async () => {
    const user = await fixtures.createUser(t.db, { merchantId: merchant.id, role: "merchant_admin" });
    const cookie = await fresh(user.id);
    await t.sql`update users set name = 'Renamed' where id = ${user.id}`;
    expect((await get("auth.whoami", { cookie })).status).toBe(200);
    await t.sql`update users set password_hash = 'changed' where id = ${user.id}`;
    expect((await get("auth.whoami", { cookie })).status).toBe(401);
  });

  it("removing a membership, or changing its role, revokes that user's sessions at once", async () => {
    const removed = await fixtures.createUser(t.db, { merchantId: merchant.id, role: "merchant_admin" });
    const removedCookie = await fresh(removed.id);
    await t.sql`delete from memberships where user_id = ${removed.id}`;
    // whoami needs no membership: a 401 here is the revoked session, not the missing role.
    expect((await get("auth.whoami", { cookie: removedCookie })).status).toBe(401);

    const demoted = await fixtures.createUser(t.db, { merchantId: merchant.id, role: "merchant_admin" });
    const demotedCookie = await fresh(demoted.id);
    await t.sql`update memberships set role = 'merchant_viewer' where user_id = ${demoted.id}`;
    expect((await get("auth.whoami", { cookie: demotedCookie })).status).toBe(401);
  });

  it("removing the ops role revokes that user's sessions at once", async () => {
    const ops = await fixtures.createUser(t.db, { ops: true });
    const cookie = await fresh(ops.id);
    expect((await get("ops.overview", { cookie })).status).toBe(200);
    await t.sql`update users set platform_role = null where id = ${ops.id}`;
    expect((await get("auth.whoami", { cookie })).status).toBe(401);
  });

  it("a token older than the absolute lifetime is refused, though its sliding expiry is still ahead", async () => {
    const old = await sessionCookie({ userId: adminId, signedInAtMs: Date.now() - SESSION_ABSOLUTE_MAX_AGE_MS - 60_000, epoch: 0 });
    expect((await get("auth.whoami", { cookie: old })).status).toBe(401);
    const nearlyOld = await sessionCookie({ userId: adminId, signedInAtMs: Date.now() - SESSION_ABSOLUTE_MAX_AGE_MS + 60 * 60_000, epoch: 0 });
    expect((await get("auth.whoami", { cookie: nearlyOld })).status).toBe(200);
  });

  it("a token without a sign-in time or epoch (issued before they existed) is refused", async () => {
    expect((await get("auth.whoami", { cookie: await sessionCookie({ userId: adminId }) })).status).toBe(401);
    expect((await get("auth.whoami", { cookie: await sessionCookie({ userId: adminId, signedInAtMs: Date.now() }) })).status).toBe(401);
  });

  it("a token sealed with another secret is no session", async () => {
    const forged = await sessionCookie({ userId: adminId, signedInAtMs: Date.now(), epoch: 0 }, { secret: "another-secret-another-secret-another" });
    expect((await get("auth.whoami", { cookie: forged })).status).toBe(401);
  });
});
