import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import { hashInvitationToken } from "../server/team/invitation-token";
import { answerShop, axeViolations, createDemoCheckout, DEMO_ADMIN, DEMO_OPS, DEMO_VIEWER, e2eDatabaseUrl, payByCard, signedInState, type StorageState } from "./helpers";
import { createAwaitingPayout, createPayoutSeller } from "./payout-fixtures";
import { seedAmountMismatchCase } from "./recon-fixtures";

// Every page of the app, as the role that uses it, on a desktop and on a 390 px phone: axe-core finds no WCAG 2.1
// A/AA violation, the phone has no sideways scrolling of the document, and a full-page screenshot of each lands
// in e2e/screenshots/<name>-<desktop|phone>.png (git-ignored) for a person to look at.
//
// The pages come from app/**/page.tsx at run time. A static page is visited as the role its prefix implies;
// a dynamic one ([id] in its path) needs data: DYNAMIC below says how to fill it, and a new dynamic page
// without an entry fails "every page.tsx is covered".
//
// One test walks every page (test.step per page, soft assertions), so one failing page neither hides the others
// nor makes Playwright restart the worker and redo the setup.

type Role = "anonymous" | "admin" | "viewer" | "ops";

interface Visit {
  /** The screenshot's name: e2e/screenshots/<name>-<viewport>.png. */
  name: string;
  path: string;
  role: Role;
  /** The path the page ends on, when it is not `path` (a redirect that is the page's point). */
  expectPath?: RegExp;
  /** A page about something that does not exist: answered 404 (or a branded 200), never 5xx. */
  missing?: boolean;
}

interface Data {
  openCheckoutId: string;
  paidCheckoutId: string;
  paidOrderId: string;
  merchantId: string;
  inviteToken: string;
  /** A chargeback on a checkout paid with the disputed test card (4000000000000259). */
  disputeId: string;
  /** A seller of the demo merchant with a destination, and its payout waiting for a second admin. */
  payoutSellerId: string;
  payoutId: string;
  /** An open amount_mismatch reconciliation case (e2e/recon-fixtures.ts). */
  reconCaseId: string;
}

const APP_DIR = path.resolve("app");
const SCREENSHOTS = path.resolve("e2e/screenshots");
const VIEWPORTS = [
  { name: "desktop", options: { viewport: { width: 1280, height: 800 } } },
  { name: "phone", options: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 } },
] as const;
type ViewportName = (typeof VIEWPORTS)[number]["name"];

/** A well-formed id no checkout has. */
const UNKNOWN_CHECKOUT = "chk_doesnotexist000000000000";

/** How each dynamic route (segments written "[]") is visited; a dynamic page missing here fails the coverage test. */
const DYNAMIC: Record<string, (d: Data) => Visit[]> = {
  "/pay/[]": (d) => [
    { name: "pay-open", path: `/pay/${d.openCheckoutId}`, role: "anonymous" },
    { name: "pay-paid", path: `/pay/${d.paidCheckoutId}`, role: "anonymous" },
    { name: "pay-unknown", path: `/pay/${UNKNOWN_CHECKOUT}`, role: "anonymous", missing: true },
  ],
  "/dashboard/payments/[]": (d) => [
    { name: "dashboard-payment-detail", path: `/dashboard/payments/${encodeURIComponent(d.paidOrderId)}`, role: "admin" },
    { name: "dashboard-payment-detail-viewer", path: `/dashboard/payments/${encodeURIComponent(d.paidOrderId)}`, role: "viewer" },
  ],
  "/dashboard/disputes/[]": (d) => [
    { name: "dashboard-dispute-detail", path: `/dashboard/disputes/${d.disputeId}`, role: "admin" },
    { name: "dashboard-dispute-detail-viewer", path: `/dashboard/disputes/${d.disputeId}`, role: "viewer" },
    { name: "dashboard-dispute-unknown", path: "/dashboard/disputes/dsp_00000000000000000000000000", role: "admin", missing: true },
  ],
  "/dashboard/payouts/[]": (d) => [
    { name: "dashboard-payout-detail", path: `/dashboard/payouts/${d.payoutId}`, role: "admin" },
    { name: "dashboard-payout-detail-viewer", path: `/dashboard/payouts/${d.payoutId}`, role: "viewer" },
    { name: "dashboard-payout-unknown", path: "/dashboard/payouts/pyo_00000000000000000000000000", role: "admin", missing: true },
  ],
  "/dashboard/sellers/[]": (d) => [
    { name: "dashboard-seller-detail", path: `/dashboard/sellers/${d.payoutSellerId}`, role: "admin" },
    { name: "dashboard-seller-detail-viewer", path: `/dashboard/sellers/${d.payoutSellerId}`, role: "viewer" },
    { name: "dashboard-seller-unknown", path: "/dashboard/sellers/sel_00000000000000000000000000", role: "admin", missing: true },
  ],
  "/ops/payments/[]": (d) => [{ name: "ops-payment-detail", path: `/ops/payments/${d.paidCheckoutId}`, role: "ops" }],
  "/ops/merchants/[]": (d) => [{ name: "ops-merchant-detail", path: `/ops/merchants/${d.merchantId}`, role: "ops" }],
  "/ops/reconciliation/[]": (d) => [
    { name: "ops-reconciliation-case", path: `/ops/reconciliation/${d.reconCaseId}`, role: "ops" },
    { name: "ops-reconciliation-case-unknown", path: "/ops/reconciliation/rcs_00000000000000000000000000", role: "ops", missing: true },
  ],
  "/invite/[]": (d) => [
    { name: "invite", path: `/invite/${d.inviteToken}`, role: "anonymous" },
    { name: "invite-unknown", path: `/invite/${randomBytes(32).toString("base64url")}`, role: "anonymous", missing: true },
  ],
};

/** Static pages seen by more than their default role (what a viewer sees differs: no admin actions). */
const EXTRA: Record<string, Visit[]> = {
  "/dashboard/settings": [{ name: "dashboard-settings-viewer", path: "/dashboard/settings", role: "viewer" }],
  "/dashboard/settings/team": [{ name: "dashboard-settings-team-viewer", path: "/dashboard/settings/team", role: "viewer" }],
  "/dashboard/developers": [{ name: "dashboard-developers-viewer", path: "/dashboard/developers", role: "viewer" }],
  "/dashboard/payouts": [{ name: "dashboard-payouts-viewer", path: "/dashboard/payouts", role: "viewer" }],
  "/dashboard/sellers": [{ name: "dashboard-sellers-viewer", path: "/dashboard/sellers", role: "viewer" }],
};

/** Pages that are not a page.tsx of their own: the not-found screens. */
const NOT_FOUND: Visit[] = [
  { name: "not-found", path: "/this-page-does-not-exist", role: "anonymous", missing: true },
  { name: "dashboard-payment-unknown", path: "/dashboard/payments/no_such_order", role: "admin", missing: true },
];

/** The routes of app/**\/page.tsx: route groups dropped, dynamic segments written "[]". */
function appRoutes(dir = APP_DIR): string[] {
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => /(^|\/)page\.(tsx|ts|jsx|js)$/.test(f));
  return files
    .map((f) => {
      const segments = path.dirname(f).split(path.sep).filter((s) => s !== "." && !/^\(.*\)$/.test(s) && !s.startsWith("@"));
      return `/${segments.map((s) => (/^\[.*\]$/.test(s) ? "[]" : s)).join("/")}`;
    })
    .sort();
}

function defaultRole(route: string): Role {
  if (route === "/dashboard" || route.startsWith("/dashboard/")) return "admin";
  if (route === "/ops" || route.startsWith("/ops/")) return "ops";
  if (route === "/no-access") return "viewer"; // signed in without the role a page needs: anonymous is sent to /signin
  return "anonymous";
}

function visitsFor(routes: string[], data: Data): { visits: Visit[]; uncovered: string[] } {
  const visits: Visit[] = [];
  const uncovered: string[] = [];
  for (const route of routes) {
    if (route.includes("[]")) {
      const fill = DYNAMIC[route];
      if (fill) visits.push(...fill(data));
      else uncovered.push(route);
      continue;
    }
    visits.push({ name: route === "/" ? "home" : route.slice(1).replaceAll("/", "-"), path: route, role: defaultRole(route) });
    visits.push(...(EXTRA[route] ?? []));
  }
  visits.push(...NOT_FOUND);
  return { visits, uncovered };
}

test("every page.tsx is covered by the page walk", () => {
  const routes = appRoutes();
  expect(routes).toContain("/dashboard");
  expect(routes).toContain("/pay/[]");
  const placeholder: Data = { openCheckoutId: "x", paidCheckoutId: "x", paidOrderId: "x", merchantId: "x", inviteToken: "x", disputeId: "x", payoutSellerId: "x", payoutId: "x", reconCaseId: "x" };
  const { uncovered } = visitsFor(routes, placeholder);
  expect(uncovered, "dynamic pages without an entry in DYNAMIC (e2e/pages.spec.ts): say how to fill their ids").toEqual([]);
});

/** Checkouts (open, paid), an invitation link and the demo merchant's id, made through the API and the buyer's page. */
async function createData(browser: Browser, request: import("@playwright/test").APIRequestContext): Promise<Data> {
  const open = await createDemoCheckout(request, [
    { seller: "books", amount: "1650.49" },
    { seller: "crafts", amount: "12000.00" },
  ], "pages_open");
  const paid = await createDemoCheckout(request, [{ seller: "coffee", amount: "420.00" }], "pages_paid");
  const disputed = await createDemoCheckout(request, [{ seller: "books", amount: "800.00" }, { seller: "crafts", amount: "200.00" }], "pages_disputed");
  const payoutSeller = await createPayoutSeller("pages_payout");
  const payoutPaid = await createDemoCheckout(request, [{ seller: payoutSeller.reference, amount: "700.00" }], "pages_payout");
  const buyer = await browser.newContext();
  try {
    await answerShop(buyer);
    await payByCard(await buyer.newPage(), paid.url);
    await payByCard(await buyer.newPage(), disputed.url, "4000000000000259");
    await payByCard(await buyer.newPage(), payoutPaid.url);
  } finally {
    await buyer.close();
  }
  // An invitation straight in the database: its token is only ever shown once, to the admin who invites.
  const inviteToken = randomBytes(32).toString("base64url");
  const sql = postgres(e2eDatabaseUrl(), { max: 1, onnotice: () => {} });
  let disputeId = "";
  try {
    // The dispute arrives through the PSP's webhooks and the sync function.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [row] = await sql<{ id: string }[]>`select id from disputes where checkout_id = ${disputed.checkoutId}`;
      if (row) {
        disputeId = row.id;
        break;
      }
      if (Date.now() > deadline) throw new Error(`no dispute for ${disputed.checkoutId} after 60 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await sql`insert into merchant_invitations (id, merchant_id, email, role, token_hash, invited_by_user_id, expires_at)
              values (${`inv_pages_${Date.now()}`}, 'mer_demo', ${`pages-${Date.now()}@example.test`}, 'merchant_viewer', ${hashInvitationToken(inviteToken)}, 'usr_demo_admin', now() + interval '7 days')`;
  } finally {
    await sql.end();
  }
  const payoutId = await createAwaitingPayout(payoutSeller, payoutPaid.checkoutId);
  const recon = await seedAmountMismatchCase("pages");
  return { openCheckoutId: open.checkoutId, paidCheckoutId: paid.checkoutId, paidOrderId: paid.orderIds[0]!, merchantId: "mer_demo", inviteToken, disputeId, payoutSellerId: payoutSeller.id, payoutId, reconCaseId: recon.caseId };
}

/** Waits until the page has its data: the load event, a quiet network, no "Loading…" and no busy region. */
async function settle(page: Page) {
  await page.waitForLoadState("load");
  await page.waitForLoadState("networkidle", { timeout: 5_000 }).catch(() => {});
  await expect(page.getByText(/^Loading…?$/)).toHaveCount(0, { timeout: 20_000 });
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 20_000 });
  await page.evaluate(() => document.fonts.ready);
}


test("every page: no axe-core violation, fits a 390 px phone, screenshot written", async ({ browser, request }) => {
  test.setTimeout(10 * 60_000); // ~95 page loads; a loaded 2-core machine takes 5-10 s for some
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });

  const states: Record<Exclude<Role, "anonymous">, StorageState> = {
    admin: await signedInState(browser, DEMO_ADMIN),
    viewer: await signedInState(browser, DEMO_VIEWER),
    ops: await signedInState(browser, DEMO_OPS),
  };
  const data = await createData(browser, request);
  const { visits } = visitsFor(appRoutes(), data);

  // One context (and page) per role and viewport, reused across the walk.
  const contexts: BrowserContext[] = [];
  const pages = new Map<string, Page>();
  async function pageFor(role: Role, viewport: (typeof VIEWPORTS)[number]): Promise<Page> {
    const key = `${role}/${viewport.name}`;
    const existing = pages.get(key);
    if (existing) return existing;
    const context = await browser.newContext({ ...viewport.options, storageState: role === "anonymous" ? undefined : states[role] });
    await answerShop(context);
    contexts.push(context);
    const page = await context.newPage();
    pages.set(key, page);
    return page;
  }

  const summary: string[] = [];
  const timings: string[] = [];
  try {
    for (const visit of visits) {
      await test.step(`${visit.name} (${visit.path} as ${visit.role})`, async () => {
        for (const viewport of VIEWPORTS) {
          const where = `${visit.name} on ${viewport.name as ViewportName}`;
          const page = await pageFor(visit.role, viewport);
          const started = Date.now();
          const response = await page.goto(visit.path);
          const status = response?.status() ?? 0;
          if (visit.missing) expect.soft(status, `${where}: HTTP status`).toBeLessThan(500);
          else expect.soft(status, `${where}: HTTP status`).toBeLessThan(400);
          await settle(page).catch((err: Error) => {
            expect.soft(err.message, `${where}: the page settles`).toBe("");
            summary.push(`${where}: never settled (still loading)`);
          });
          const landed = new URL(page.url()).pathname;
          if (visit.expectPath) expect.soft(landed, `${where}: ends on`).toMatch(visit.expectPath);
          else expect.soft(decodeURIComponent(landed), `${where}: stays on its path (not redirected)`).toBe(decodeURIComponent(visit.path));
          if (!visit.expectPath && decodeURIComponent(landed) !== decodeURIComponent(visit.path)) summary.push(`${where}: redirected to ${landed}`);

          // The app's error boundary (app/error.tsx) renders with a 200 after a client-side failure.
          const errorScreen = await page.getByRole("heading", { name: "Something went wrong" }).count();
          expect.soft(errorScreen, `${where}: the error screen is shown`).toBe(0);
          if (status >= 500 || errorScreen) summary.push(`${where}: error screen (HTTP ${status})`);

          const violations = await axeViolations(page);
          expect.soft(violations, `${where}: axe-core violations`).toEqual([]);
          if (violations.length) summary.push(`${where} (${visit.path}):\n  ${violations.join("\n  ")}`);

          if (viewport.name === "phone") {
            const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
            expect.soft(widths.scroll, `${where}: document wider than the phone (${widths.scroll} > ${widths.inner})`).toBeLessThanOrEqual(widths.inner + 1);
            if (widths.scroll > widths.inner + 1) summary.push(`${where}: horizontal overflow ${widths.scroll}px > ${widths.inner}px`);
          }
          await page.screenshot({ path: path.join(SCREENSHOTS, `${visit.name}-${viewport.name}.png`), fullPage: true, animations: "disabled" });
          timings.push(`${where}: ${Date.now() - started} ms`);
        }
      });
    }
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
    console.log(`\nPage walk: ${visits.length} visits, ${timings.length} page loads\n  ${timings.join("\n  ")}`);
    if (summary.length) console.log(`\nPage walk findings:\n${summary.join("\n")}\n`);
  }
});
