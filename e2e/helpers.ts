import AxeBuilder from "@axe-core/playwright";
import { expect, type APIRequestContext, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { E2E_STATE_FILE } from "../playwright.config";

export const DEMO_PASSWORD = "demo-password";
export const DEMO_ADMIN = "admin@demo.test";
export const DEMO_VIEWER = "viewer@demo.test";
export const DEMO_OPS = "ops@demo.test";

/** Signs in through the form and waits until the app has left the sign-in page. */
export async function signIn(page: Page, email: string, password = DEMO_PASSWORD, path = "/signin") {
  await submitSignIn(page, email, password, path);
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
}

export async function submitSignIn(page: Page, email: string, password: string, path = "/signin") {
  await page.goto(path);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function expectOnSignIn(page: Page) {
  await expect(page.getByRole("heading", { name: "Sign in to PayBridge" })).toBeVisible();
}

// ---- Shared by the cross-page specs (pages.spec.ts, keyboard.spec.ts) ----

/** The seeded demo test-mode key (scripts/seed-demo.ts). */
export const DEMO_API_KEY = "sk_test_DemoDemoDemoDemoDemoDemoDemoDemo";
/** The merchant's shop (return URLs): outside this machine, so specs answer it locally (`answerShop`). */
export const DEMO_SHOP = "https://shop.example";

/** Signs in once in a throwaway context and returns its cookies, for `browser.newContext({ storageState })`. */
export async function signedInState(browser: Browser, email: string): Promise<StorageState> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signIn(page, email);
    return await context.storageState();
  } finally {
    await context.close();
  }
}
export type StorageState = Awaited<ReturnType<BrowserContext["storageState"]>>;

/** Answers the shop's return URL locally (a paid checkout sends the buyer back there). */
export async function answerShop(target: Page | BrowserContext) {
  await target.route(`${DEMO_SHOP}/**`, (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><html lang=en><title>Shop</title><h1>Back at the shop</h1></html>" }));
}

/** Creates a checkout through the public API with the demo key; `tag` makes its ids recognisable. */
export async function createDemoCheckout(request: APIRequestContext, orders: { seller: string; amount: string }[], tag = "e2e") {
  const id = `${tag}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const res = await request.post("/api/v1/payments", {
    headers: { authorization: `Bearer ${DEMO_API_KEY}`, "idempotency-key": id },
    data: {
      buyer_info: { email: `${id}@example.test`, country: "KE" },
      return_url: `${DEMO_SHOP}/thanks`,
      payment_orders: orders.map((o, i) => ({ payment_order_id: `${id}_${i}`, seller_account: o.seller, amount: o.amount, currency: "KES" })),
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  const body = await res.json();
  return { id, buyerEmail: `${id}@example.test`, url: body.checkout_url as string, checkoutId: body.checkout_id as string, orderIds: orders.map((_, i) => `${id}_${i}`) };
}

/**
 * Pays the checkout on `page` with the sandbox's always-approved test card (or another approved one, e.g.
 * 4000000000000259: paid, then disputed) and waits for the success screen.
 */
export async function payByCard(page: Page, checkoutUrl: string, card = "4242424242424242") {
  await page.goto(checkoutUrl);
  const field = page.frameLocator('iframe[title="Secure card payment input frame"]');
  await field.getByTestId("card-number").fill(card);
  await field.getByTestId("card-expiry").fill("12 / 34");
  await field.getByTestId("card-cvc").fill("123");
  await page.getByRole("button", { name: /^Pay\b/ }).click();
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
}

/** The e2e server's own throwaway database (written by scripts/dev.ts); refuses anything but a local one. */
export function e2eDatabaseUrl(): string {
  const state = JSON.parse(readFileSync(E2E_STATE_FILE, "utf8")) as { databaseUrl: string };
  expect(new URL(state.databaseUrl).hostname).toBe("127.0.0.1");
  return state.databaseUrl;
}

/** The WCAG levels every page is held to (axe-core rule tags). */
export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** axe-core's violations on the page as it stands, one readable entry each (rule, help, the first nodes); [] when none. */
export async function axeViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  return violations.map((v) => {
    const nodes = v.nodes.slice(0, 8).map((n) => `    ${n.target.join(" ")}\n      ${(n.failureSummary ?? "").replaceAll("\n", "\n      ")}`);
    const more = v.nodes.length > 8 ? `\n    …and ${v.nodes.length - 8} more` : "";
    return `${v.id} [${v.impact}] ${v.help} (${v.helpUrl})\n${nodes.join("\n")}${more}`;
  });
}

export interface HookReceiver {
  /** Where to point a webhook endpoint: http://127.0.0.1:<port><path>. */
  url: string;
  /** Every POST received, in order: its body and PayBridge-Signature header. */
  received: { body: string; signature: string | undefined }[];
  close: () => Promise<void>;
}

/** A merchant's webhook receiver, a real HTTP server in the test process, answering every POST 200 with `{"ok":true}`. */
export async function startHookReceiver(path: string): Promise<HookReceiver> {
  const received: HookReceiver["received"] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      received.push({ body, signature: req.headers["paybridge-signature"] as string | undefined });
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections(); // keep-alive sockets would hold close() open
      }),
  };
}

/**
 * A second platform ops user (same password as the demo users), for maker-checker in the ops console: a new row
 * with the demo ops user's password hash and the ops role. Returns its email.
 */
export async function createSecondOpsUser(tag = "ops2"): Promise<string> {
  const sql = postgres(e2eDatabaseUrl(), { max: 1, onnotice: () => {} });
  try {
    const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const email = `${tag}-${suffix}@demo.test`;
    await sql`insert into users (id, email, name, password_hash, platform_role)
              select ${`usr_e2e_${tag}_${suffix}`}, ${email}, 'Second Ops', password_hash, 'ops' from users where email = ${DEMO_OPS}`;
    return email;
  } finally {
    await sql.end();
  }
}
