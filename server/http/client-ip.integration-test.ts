// With the default configuration (TRUSTED_PROXY_HOPS=0: no proxy in front), a client that writes a new
// X-Forwarded-For on every request never picks a bucket of its own, and no per-IP bucket is shared by everyone
// (one noisy client would lock every buyer out): the /api/v1 per-IP limit and the hosted checkout's action limit
// are not applied to an unidentified client; the sign-in lockout of an email still holds. Through their real route
// handlers and the rate-limit rows in Postgres.
// DATABASE_URL, AUTH_SECRET and the limit are set before the first import of server/env.js (read once per file).
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_AUTH_SECRET } from "@/server/auth/test-helpers";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";

const APP = "http://localhost:3000";
const NEXT_HEADERS = { host: "localhost:3000", "x-forwarded-proto": "http" };
const CHECKOUT_LIMIT = 3;

let t: TestDatabase;
let spoof = 0;
/** A fresh, plausible X-Forwarded-For chain on every call. */
const rotatingXff = () => ({ "x-forwarded-for": `198.51.100.${++spoof % 250}, 203.0.113.${spoof % 250}` });

beforeAll(async () => {
  t = await createTestDatabase();
  pointRoutesAt(t, { AUTH_SECRET: TEST_AUTH_SECRET, TRUSTED_PROXY_HOPS: "", CHECKOUT_RATE_LIMIT_PER_IP: String(CHECKOUT_LIMIT) });
  const { env } = await import("@/server/env.js");
  expect(env.TRUSTED_PROXY_HOPS).toBe(0);
});
afterAll(async () => t?.drop());

/** Rate-limit buckets keyed by a client address, a forged one or the shared "direct"/"unknown" stand-ins. */
async function bucketsNamingClients(): Promise<string[]> {
  const rows = await t.sql`select distinct bucket from rate_limit_counters
    where bucket like '%198.51.100.%' or bucket like '%203.0.113.%' or bucket like '%:direct' or bucket like '%:unknown'`;
  return rows.map((r) => String(r.bucket));
}

describe("a client rotating X-Forwarded-For, with no trusted proxy configured", () => {
  it("/api/v1: a forged header picks no bucket, and no shared per-IP bucket is used", async () => {
    const { getPaymentRoute } = await import("@/server/payments/routes");
    const route = getPaymentRoute(() => t.db, { limits: { perIp: 3 } });
    const call = () => route(new Request(`${APP}/api/v1/payments/ord_x`, { headers: { ...NEXT_HEADERS, ...rotatingXff() } }), { params: Promise.resolve({ payment_order_id: "ord_x" }) });
    for (let i = 0; i < 6; i++) expect((await call()).status).toBe(401);
    expect(await bucketsNamingClients()).toEqual([]);
  });

  it("hosted checkout: a forged header picks no bucket, and one client cannot use up everyone's allowance", async () => {
    const route = await import("@/app/api/trpc/[trpc]/route");
    const call = () =>
      route.POST(
        new Request(`${APP}/api/trpc/checkout.prepareCard`, {
          method: "POST",
          headers: { ...NEXT_HEADERS, ...rotatingXff(), origin: APP, "sec-fetch-site": "same-origin", "content-type": "application/json" },
          body: JSON.stringify({ json: { checkoutId: "chk_00000000000000000000000000" } }),
        }),
      );
    for (let i = 0; i < CHECKOUT_LIMIT * 2; i++) expect((await call()).status).toBe(404);
    expect(await bucketsNamingClients()).toEqual([]);
  });

  it("cannot escape the sign-in lockout of an email", async () => {
    const authRoute = await import("@/app/api/auth/[...nextauth]/route");
    const { SIGNIN_FREE_FAILURES_PER_CLIENT } = await import("@/server/auth/sign-in-throttle");
    const email = "rotating@example.test";
    const tryPassword = async (password: string) => {
      const headers = { ...NEXT_HEADERS, ...rotatingXff() };
      const csrf = await authRoute.GET(new NextRequest(`${APP}/api/auth/csrf`, { headers }));
      const { csrfToken } = (await csrf.json()) as { csrfToken: string };
      const cookie = csrf.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
      const res = await authRoute.POST(
        new NextRequest(`${APP}/api/auth/callback/credentials`, {
          method: "POST",
          headers: { ...headers, cookie, origin: APP, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ email, password, csrfToken, callbackUrl: `${APP}/dashboard` }),
        }),
      );
      return new URL(res.headers.get("location")!).searchParams.get("code");
    };
    for (let i = 0; i < SIGNIN_FREE_FAILURES_PER_CLIENT; i++) expect(await tryPassword(`guess-${i}`)).toBe("credentials");
    expect(await tryPassword("guess-again")).toBe("rate_limited");
    const rows = await t.sql`select client_ip from sign_in_throttles where email = ${email}`;
    expect(rows.map((r) => r.client_ip)).toEqual(["direct"]);
  });
});
