// A session ends on the next request after what it was granted on changes: a password change, the platform
// role removed, a merchant membership removed or its role changed, the user deleted, "sign out everywhere".
// Checked on every way a request reads the session, with real session cookies and the real route handlers:
//   - sessionFromHeaders, the one reader of server code: the tRPC HTTP handler and the RSC caller that every
//     server-rendered page (through page-guard's forPage) and server action (serverCaller) use;
//   - the tRPC handler itself (401);
//   - Auth.js's own /api/auth/session, which answered a revoked token and slid its cookie for another 8 h.
// DATABASE_URL and AUTH_SECRET are set before the first import of server/env.js (which reads them once).
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";
import { SESSION_COOKIE, sessionCookie, TEST_AUTH_SECRET } from "./test-helpers";

const APP = "http://localhost:3000";
const NEXT_HEADERS = { host: "localhost:3000", "x-forwarded-proto": "http" };

let t: TestDatabase;
let authRoute: typeof import("@/app/api/auth/[...nextauth]/route");
let trpcRoute: typeof import("@/app/api/trpc/[trpc]/route");
let sessionFromHeaders: typeof import("./config").sessionFromHeaders;
let fixtures: typeof import("@/test/fixtures");
let merchantId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  pointRoutesAt(t, { AUTH_SECRET: TEST_AUTH_SECRET });
  authRoute = await import("@/app/api/auth/[...nextauth]/route");
  trpcRoute = await import("@/app/api/trpc/[trpc]/route");
  ({ sessionFromHeaders } = await import("./config"));
  fixtures = await import("@/test/fixtures");
  merchantId = (await fixtures.createMerchant(t.db)).id;
});
afterAll(async () => t?.drop());

async function cookieFor(userId: string): Promise<string> {
  const [row] = await t.sql<{ session_epoch: number }[]>`select session_epoch from users where id = ${userId}`;
  return sessionCookie({ userId, signedInAtMs: Date.now(), epoch: row?.session_epoch ?? 0 });
}

/** What each reader of the session makes of this cookie. */
async function readers(cookie: string) {
  const headers = new Headers({ ...NEXT_HEADERS, cookie });
  const server = await sessionFromHeaders(headers);
  const trpc = await trpcRoute.GET(new Request(`${APP}/api/trpc/auth.whoami`, { headers }));
  const res = await authRoute.GET(new NextRequest(`${APP}/api/auth/session`, { headers }));
  const body = (await res.json()) as { user?: { id?: string } } | null;
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  return {
    serverUserId: server?.userId ?? null,
    trpcStatus: trpc.status,
    endpointUserId: body?.user?.id ?? null,
    /** Auth.js slides a live session's cookie and clears an ended one (empty value, expired). */
    cookieCleared: setCookie !== undefined && (setCookie.startsWith(`${SESSION_COOKIE}=;`) || /max-age=0|expires=thu, 01 jan 1970/i.test(setCookie)),
  };
}

const live = (userId: string) => ({ serverUserId: userId, trpcStatus: 200, endpointUserId: userId, cookieCleared: false });
const ended = { serverUserId: null, trpcStatus: 401, endpointUserId: null, cookieCleared: true };

describe("the next request with the old session is refused everywhere", () => {
  const changes: [string, (userId: string) => Promise<unknown>, { ops?: boolean }][] = [
    ["a password change", (id) => t.sql`update users set password_hash = 'changed' where id = ${id}`, {}],
    ["the ops role removed", (id) => t.sql`update users set platform_role = null where id = ${id}`, { ops: true }],
    ["the merchant membership removed", (id) => t.sql`delete from memberships where user_id = ${id}`, {}],
    ["the membership's role changed", (id) => t.sql`update memberships set role = 'merchant_viewer' where user_id = ${id}`, {}],
    ["the user deleted", (id) => t.sql`delete from users where id = ${id}`, {}],
    [
      "sign out everywhere",
      async (id) => (await import("./revoke-sessions")).revokeUserSessions(t.db, { userId: id, actorUserId: id }),
      {},
    ],
  ];

  for (const [what, change, opts] of changes) {
    it(`after ${what}`, async () => {
      const user = await fixtures.createUser(t.db, { merchantId, role: "merchant_admin", ops: opts.ops });
      const cookie = await cookieFor(user.id);
      expect(await readers(cookie)).toEqual(live(user.id));
      await change(user.id);
      expect(await readers(cookie)).toEqual(ended);
    });
  }

  it("an unrelated change (the user's name, another user's password) leaves the session alone", async () => {
    const user = await fixtures.createUser(t.db, { merchantId, role: "merchant_admin" });
    const other = await fixtures.createUser(t.db, { merchantId, role: "merchant_admin" });
    const cookie = await cookieFor(user.id);
    await t.sql`update users set name = 'Renamed' where id = ${user.id}`;
    await t.sql`update users set password_hash = 'changed' where id = ${other.id}`;
    expect(await readers(cookie)).toEqual(live(user.id));
  });

  it("a session issued after the change works", async () => {
    const user = await fixtures.createUser(t.db, { merchantId, role: "merchant_admin" });
    await t.sql`update users set password_hash = 'changed' where id = ${user.id}`;
    expect(await readers(await cookieFor(user.id))).toEqual(live(user.id));
  });
});
