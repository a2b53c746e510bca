// Credentials sign-in through Auth.js's own route handler (app/api/auth/[...nextauth]/route.ts) with real
// Requests: the CSRF token round trip, client IPs as our proxy forwards them, and the throttles in Postgres.
// DATABASE_URL and AUTH_SECRET are set before the first import of server/env.js (which reads them once).
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";
import { TEST_AUTH_SECRET } from "./test-helpers";

const APP = "http://localhost:3000";
const HOST = "localhost:3000";
/** What Next.js puts on every request it hands to a route (it sets x-forwarded-proto when no proxy did). */
const NEXT_HEADERS = { host: HOST, "x-forwarded-proto": "http" };
const PASSWORD = "owner-password-1";
const ATTACKER_IP = "203.0.113.9";
const OWNER_IP = "198.51.100.20";

let t: TestDatabase;
let authRoute: typeof import("@/app/api/auth/[...nextauth]/route");
let trpcRoute: typeof import("@/app/api/trpc/[trpc]/route");
let throttle: typeof import("./sign-in-throttle");
let ownerEmail: string;

beforeAll(async () => {
  t = await createTestDatabase();
  // Behind one proxy, so each test's X-Forwarded-For is its client (server/http/client-ip.ts; without a proxy
  // every request is one client: server/http/client-ip.integration-test.ts).
  pointRoutesAt(t, { AUTH_SECRET: TEST_AUTH_SECRET, TRUSTED_PROXY_HOPS: "1" });
  authRoute = await import("@/app/api/auth/[...nextauth]/route");
  trpcRoute = await import("@/app/api/trpc/[trpc]/route");
  throttle = await import("./sign-in-throttle");
  ownerEmail = await createUserWithPassword();
});
afterAll(async () => t?.drop());

async function createUserWithPassword(): Promise<string> {
  const { createMerchant, createUser } = await import("@/test/fixtures");
  const { hashPassword } = await import("./password");
  const merchant = await createMerchant(t.db);
  const user = await createUser(t.db, { merchantId: merchant.id, role: "merchant_admin" });
  await t.sql`update users set password_hash = ${await hashPassword(PASSWORD)} where id = ${user.id}`;
  return user.email;
}

interface SignInResult {
  /** The `code` of the error redirect ("credentials": wrong password, "rate_limited"), or null on success. */
  code: string | null;
  location: string;
  sessionCookie: string | undefined;
}

/** What the browser does: fetch a CSRF token, then post the credentials form with it, from the client's IP. */
async function signIn(email: string, password: string, clientIp: string, extra: Record<string, string> = { origin: APP }): Promise<SignInResult> {
  const forwarded = { ...NEXT_HEADERS, "x-forwarded-for": clientIp };
  const csrf = await authRoute.GET(new NextRequest(`${APP}/api/auth/csrf`, { headers: forwarded }));
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const cookie = csrf.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const body = new URLSearchParams({ email, password, csrfToken, callbackUrl: `${APP}/dashboard` });
  const res = await authRoute.POST(
    new NextRequest(`${APP}/api/auth/callback/credentials`, { method: "POST", headers: { ...forwarded, cookie, "content-type": "application/x-www-form-urlencoded", ...extra }, body }),
  );
  expect(res.status).toBe(302);
  const location = res.headers.get("location")!;
  const session = res.headers.getSetCookie().find((c) => c.startsWith("authjs.session-token="));
  return { code: location.includes("error=") ? new URL(location).searchParams.get("code") : null, location, sessionCookie: session?.split(";")[0] };
}

async function throttleRow(email: string, clientIp: string) {
  const [row] = await t.sql<{ failures: number; locked_for_ms: number | null }[]>`
    select failures, (extract(epoch from locked_until - last_attempt_at) * 1000)::int as locked_for_ms
    from sign_in_throttles where email = ${email} and client_ip = ${clientIp}`;
  return row;
}

describe("sign-in lockouts are per email and client", () => {
  it("failures from client A never stop the owner on client B; A waits longer and longer", async () => {
    const { SIGNIN_FREE_FAILURES_PER_CLIENT, SIGNIN_LOCK_BASE_MS } = throttle;
    for (let i = 0; i < SIGNIN_FREE_FAILURES_PER_CLIENT; i++) {
      expect((await signIn(ownerEmail, `wrong-${i}`, ATTACKER_IP)).code).toBe("credentials");
    }
    // A is locked out: refused before the password is even checked (the right one included).
    expect((await signIn(ownerEmail, "wrong-again", ATTACKER_IP)).code).toBe("rate_limited");
    expect((await signIn(ownerEmail, PASSWORD, ATTACKER_IP)).code).toBe("rate_limited");
    expect(await throttleRow(ownerEmail, ATTACKER_IP)).toEqual({ failures: SIGNIN_FREE_FAILURES_PER_CLIENT, locked_for_ms: SIGNIN_LOCK_BASE_MS });

    // The owner, from their own client, signs in at once, and the session works on the tRPC route.
    const owner = await signIn(ownerEmail, PASSWORD, OWNER_IP);
    expect(owner.code).toBeNull();
    expect(owner.location).toBe(`${APP}/dashboard`);
    const whoami = await trpcRoute.GET(new Request(`${APP}/api/trpc/auth.whoami`, { headers: { ...NEXT_HEADERS, cookie: owner.sessionCookie! } }));
    expect(whoami.status).toBe(200);

    // When A's lock ends (moved into the past here rather than waited for), one more guess, then twice as long.
    await t.sql`update sign_in_throttles set locked_until = now() - interval '1 second' where email = ${ownerEmail} and client_ip = ${ATTACKER_IP}`;
    expect((await signIn(ownerEmail, "wrong-later", ATTACKER_IP)).code).toBe("credentials");
    expect((await signIn(ownerEmail, "wrong-too-soon", ATTACKER_IP)).code).toBe("rate_limited");
    expect(await throttleRow(ownerEmail, ATTACKER_IP)).toEqual({ failures: SIGNIN_FREE_FAILURES_PER_CLIENT + 1, locked_for_ms: 2 * SIGNIN_LOCK_BASE_MS });
  });

  it("a successful sign-in resets that client's count", async () => {
    const email = await createUserWithPassword();
    const ip = "192.0.2.44";
    const almost = throttle.SIGNIN_FREE_FAILURES_PER_CLIENT - 1;
    for (let i = 0; i < almost; i++) expect((await signIn(email, `nope-${i}`, ip)).code).toBe("credentials");
    expect((await signIn(email, PASSWORD, ip)).code).toBeNull();
    expect(await throttleRow(email, ip)).toBeUndefined();
    for (let i = 0; i < almost; i++) expect((await signIn(email, `nope-again-${i}`, ip)).code).toBe("credentials");
    expect((await signIn(email, PASSWORD, ip)).code).toBeNull();
  });

  it("an unknown email is throttled exactly like a known one (no account enumeration)", async () => {
    const ip = "192.0.2.45";
    for (let i = 0; i < throttle.SIGNIN_FREE_FAILURES_PER_CLIENT; i++) expect((await signIn("nobody@example.test", `x-${i}`, ip)).code).toBe("credentials");
    expect((await signIn("nobody@example.test", "x", ip)).code).toBe("rate_limited");
  });
});

describe("who may post to /api/auth", () => {
  it("a credentials POST from another origin is refused with 403 before Auth.js sees it", async () => {
    const ip = "192.0.2.46";
    const res = await authRoute.POST(
      new NextRequest(`${APP}/api/auth/callback/credentials`, {
        method: "POST",
        headers: { ...NEXT_HEADERS, "x-forwarded-for": ip, origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ email: ownerEmail, password: PASSWORD, csrfToken: "x" }),
      }),
    );
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/origin/i);
    expect(await throttleRow(ownerEmail, ip)).toBeUndefined();
  });

  it("Auth.js's CSRF token guards it as well: a same-origin POST without the token signs no one in", async () => {
    const res = await authRoute.POST(
      new NextRequest(`${APP}/api/auth/callback/credentials`, {
        method: "POST",
        headers: { ...NEXT_HEADERS, "x-forwarded-for": "192.0.2.47", origin: APP, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ email: ownerEmail, password: PASSWORD }),
      }),
    );
    expect(res.headers.get("location")).toMatch(/error=MissingCSRF/);
    expect(res.headers.getSetCookie().some((c) => c.startsWith("authjs.session-token="))).toBe(false);
  });
});

describe("the throttle's rules (with a clock)", () => {
  const at = (ms: number) => new Date(Date.UTC(2030, 0, 1) + ms);

  it("locks one client out for twice as long each time, up to the cap, and forgets after a quiet day", async () => {
    const { SIGNIN_FREE_FAILURES_PER_CLIENT: free, SIGNIN_LOCK_BASE_MS: base, SIGNIN_LOCK_MAX_MS: max, SIGNIN_FAILURE_MEMORY_MS: memory } = throttle;
    const attempt = { email: "clock@example.test", clientIp: "192.0.2.60" };
    let now = 0;
    for (let i = 0; i < free; i++) expect(await throttle.admitSignInAttempt(t.db, attempt, { now: at(now) })).toEqual({ allowed: true });
    const waits: number[] = [];
    for (;;) {
      const refused = await throttle.admitSignInAttempt(t.db, attempt, { now: at(now) });
      if (refused.allowed) throw new Error("expected a lockout");
      waits.push(refused.retryAfterS);
      if (refused.retryAfterS * 1000 >= max) break;
      now += refused.retryAfterS * 1000;
      expect(await throttle.admitSignInAttempt(t.db, attempt, { now: at(now) })).toEqual({ allowed: true });
    }
    expect(waits.slice(0, 4)).toEqual([base / 1000, (2 * base) / 1000, (4 * base) / 1000, (8 * base) / 1000]);
    expect(waits.at(-1)).toBe(max / 1000);
    // A day after the last attempt, that client starts over.
    now += max + memory;
    for (let i = 0; i < free; i++) expect((await throttle.admitSignInAttempt(t.db, attempt, { now: at(now) })).allowed).toBe(true);
  });

  it("has a per-email ceiling across all clients and a per-IP limit; locked-out tries never count towards the ceiling", async () => {
    const email = "ceiling@example.test";
    const now = at(10 * 24 * 60 * 60_000);
    const free = throttle.SIGNIN_FREE_FAILURES_PER_CLIENT;
    const limits = { ...throttle.SIGN_IN_LIMITS, perEmailPerMinute: free + 2 };
    const admit = (clientIp: string) => throttle.admitSignInAttempt(t.db, { email, clientIp }, { now, limits });
    // One client uses up its own allowance and keeps knocking: the account's ceiling is untouched by that.
    for (let i = 0; i < free + 5; i++) await admit("192.0.2.70");
    expect((await admit("192.0.2.71")).allowed).toBe(true);
    // Many clients together reach it.
    expect((await admit("192.0.2.72")).allowed).toBe(true);
    expect(await admit("192.0.2.73")).toMatchObject({ allowed: false });

    const ip = "192.0.2.80";
    const spray = { ...throttle.SIGN_IN_LIMITS, perIpPerMinute: 4 };
    for (let i = 0; i < 4; i++) expect((await throttle.admitSignInAttempt(t.db, { email: `spray-${i}@example.test`, clientIp: ip }, { now, limits: spray })).allowed).toBe(true);
    expect(await throttle.admitSignInAttempt(t.db, { email: "spray-5@example.test", clientIp: ip }, { now, limits: spray })).toMatchObject({ allowed: false });
  });

  it("says how long to wait", () => {
    expect(throttle.signInRefusalMessage(1)).toBe("Too many sign-in attempts. Try again in 1 second.");
    expect(throttle.signInRefusalMessage(30)).toBe("Too many sign-in attempts. Try again in 30 seconds.");
    expect(throttle.signInRefusalMessage(120)).toBe("Too many sign-in attempts. Try again in 2 minutes.");
    expect(throttle.signInRefusalMessage(61)).toBe("Too many sign-in attempts. Try again in 2 minutes.");
  });

  it("sweeps what it no longer needs", async () => {
    const attempt = { email: "sweep@example.test", clientIp: "192.0.2.90" };
    await throttle.admitSignInAttempt(t.db, attempt, { now: at(0) });
    await throttle.sweepSignInThrottles(t.db, at(throttle.SIGNIN_FAILURE_MEMORY_MS - 1));
    expect(await throttleRow(attempt.email, attempt.clientIp)).toBeDefined();
    await throttle.sweepSignInThrottles(t.db, at(throttle.SIGNIN_FAILURE_MEMORY_MS + 1));
    expect(await throttleRow(attempt.email, attempt.clientIp)).toBeUndefined();
  });
});
