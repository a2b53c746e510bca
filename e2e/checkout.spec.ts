import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { E2E_LOG_FILE, E2E_STATE_FILE } from "../playwright.config";
import { findPans } from "../server/psp/pan-scan";
import { findPansInDatabase } from "../server/psp/pan-scan-db";
import { formatMoney } from "../components/ui/format";
import { createDb } from "../db/client";
import type { CheckoutTransitionReason } from "../server/payments/checkout-state";
import { transitionCheckout } from "../server/payments/checkout-state";
import { reviewCheckout } from "../server/risk/review-checkout";
import { DEMO_ADMIN, e2eDatabaseUrl, signIn } from "./helpers";

// The buyer's side: the hosted checkout, the PSP-hosted card field (an iframe on the sandbox's origin),
// M-Pesa STK push, and what the merchant sees afterwards. Everything runs for real: the app, the PSP
// sandbox, the local Inngest engine and Postgres.

const API_KEY = "sk_test_DemoDemoDemoDemoDemoDemoDemoDemo"; // seeded demo key (scripts/seed-demo.ts)
const SHOP = "https://shop.example";

async function createCheckout(request: APIRequestContext, orders: { seller: string; amount: string }[]) {
  const id = `e2e_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const res = await request.post("/api/v1/payments", {
    headers: { authorization: `Bearer ${API_KEY}`, "idempotency-key": id },
    data: {
      buyer_info: { email: `${id}@example.test`, country: "KE" },
      return_url: `${SHOP}/thanks`,
      payment_orders: orders.map((o, i) => ({ payment_order_id: `${id}_${i}`, seller_account: o.seller, amount: o.amount, currency: "KES" })),
    },
  });
  expect(res.status()).toBe(201);
  const body = await res.json();
  return { id, url: body.checkout_url as string, checkoutId: body.checkout_id as string, orderIds: orders.map((_, i) => `${id}_${i}`) };
}

async function orderStatus(request: APIRequestContext, orderId: string) {
  const res = await request.get(`/api/v1/payments/${orderId}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  return res.json();
}

async function fillCard(page: Page, number: string) {
  const field = page.frameLocator('iframe[title="Secure card payment input frame"]');
  await field.getByTestId("card-number").fill(number);
  await field.getByTestId("card-expiry").fill("12 / 34");
  await field.getByTestId("card-cvc").fill("123");
}

async function pendingBalances(page: Page) {
  await page.goto("/dashboard");
  const read = async (ref: string) => (await page.getByTestId(`balance-${ref}`).getByTestId("pending").textContent())!.trim();
  return { books: await read("books"), crafts: await read("crafts"), coffee: await read("coffee") };
}

test.beforeEach(async ({ page }) => {
  // The merchant's return URL is outside this machine: answer it locally.
  await page.route(`${SHOP}/**`, (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<h1>Back at the shop</h1>" }));
});

test("a buyer pays a 3-seller checkout by card; the merchant sees three SUCCESS orders and pending balances", async ({ page, request }) => {
  await signIn(page, DEMO_ADMIN);
  const before = await pendingBalances(page);

  const c = await createCheckout(request, [
    { seller: "books", amount: "1200.00" },
    { seller: "crafts", amount: "350.50" },
    { seller: "coffee", amount: "99.99" },
  ]);
  await page.goto(c.url);
  // The merchant's order of sellers (not alphabetical), amounts per currency and locale (en-US: thousands separators).
  await expect(page.getByTestId("order-line")).toHaveText([/^Nairobi Books\s*KES\s1,200\.00$/, /^Mombasa Crafts\s*KES\s350\.50$/, /^Kisumu Coffee\s*KES\s99\.99$/]);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^KES\s1,650\.49$/);
  await expect(page.getByTestId("test-mode-badge")).toHaveText("Test mode");
  await fillCard(page, "4242424242424242");
  const pay = page.getByRole("button", { name: /^Pay KES\s1,650\.49$/ });
  await pay.dblclick(); // a double click never charges twice
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
  // The receipt: reference, amount, card brand and last 4 digits, time with its zone (the merchant's: UTC here).
  await expect(page.getByTestId("receipt-reference")).toHaveText(c.checkoutId);
  await expect(page.getByTestId("receipt-amount")).toHaveText(/^KES\s1,650\.49$/);
  await expect(page.getByTestId("receipt-method")).toHaveText("Visa ending 4242");
  await expect(page.getByTestId("receipt-time")).toHaveText(/\d{2}:\d{2}:\d{2} (UTC|GMT)$/);
  await page.waitForURL(new RegExp(`^${SHOP}/thanks\\?checkout_id=${c.checkoutId}&status=succeeded`), { timeout: 15_000 });

  for (const id of c.orderIds) expect((await orderStatus(request, id)).status).toBe("SUCCESS");
  await page.goto("/dashboard/payments");
  for (const id of c.orderIds) await expect(page.getByTestId("payment-row").filter({ hasText: id })).toHaveAttribute("data-status", "SUCCESS");
  const after = await pendingBalances(page);
  // 2% platform fee (rounded down) stays with the platform: 1200.00 -> 1176.00, 350.50 -> 343.49, 99.99 -> 98.00.
  // Balances are shown with formatMoney (en-US: "KES 1,176.00"); its digits are the minor units.
  const spaces = (x: string) => x.replace(/\s+/g, " ");
  const plus = (a: string, b: string) => spaces(formatMoney(BigInt(a.replace(/\D/g, "")) + BigInt(b), "KES"));
  expect(spaces(after.books)).toBe(plus(before.books, "117600"));
  expect(spaces(after.crafts)).toBe(plus(before.crafts, "34349"));
  expect(spaces(after.coffee)).toBe(plus(before.coffee, "9800"));

  // The card number never reached our pages' HTML, our API, our database or our logs.
  expect(findPans(await page.content())).toEqual([]);
  expect(findPans(JSON.stringify(await orderStatus(request, c.orderIds[0]!)))).toEqual([]);
  await expectNoCardNumbersStored();
});

async function expectNoCardNumbersStored() {
  const state = JSON.parse(readFileSync(E2E_STATE_FILE, "utf8")) as { databaseUrl: string };
  // E2E only ever touches its own throwaway local database.
  expect(new URL(state.databaseUrl).hostname).toBe("127.0.0.1");
  const sql = postgres(state.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    expect(await findPansInDatabase(sql)).toEqual([]);
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from payment_attempts where status = 'succeeded'`;
    expect(row?.n).toBeGreaterThan(0); // the scan ran after a real card payment was stored
  } finally {
    await sql.end();
  }
  const logs = readFileSync(E2E_LOG_FILE, "utf8");
  expect(logs.length).toBeGreaterThan(0);
  expect(findPans(logs)).toEqual([]);
}

test("a declined card shows a clear message and nothing is posted", async ({ page, request }) => {
  await signIn(page, DEMO_ADMIN);
  const before = await pendingBalances(page);
  const c = await createCheckout(request, [{ seller: "books", amount: "500.00" }]);
  await page.goto(c.url);
  await fillCard(page, "4000000000000002");
  await page.getByRole("button", { name: /^Pay KES\s500\.00$/ }).click();
  await expect(page.getByRole("alert").filter({ hasText: /declined/ })).toContainText("Your card was declined");
  await expect.poll(async () => (await orderStatus(request, c.orderIds[0]!)).status, { timeout: 20_000 }).toBe("FAILED");
  expect((await orderStatus(request, c.orderIds[0]!)).failure.code).toBe("generic_decline");
  expect((await pendingBalances(page)).books).toBe(before.books);
});

test("an M-Pesa payment cancelled on the phone (1032) can be resent and then succeeds", async ({ page, request }) => {
  const c = await createCheckout(request, [
    { seller: "crafts", amount: "300.00" },
    { seller: "coffee", amount: "200.00" },
  ]);
  await page.goto(c.url);
  await page.getByText("M-Pesa", { exact: true }).click();
  await page.getByLabel("M-Pesa phone number").fill("0712 341 032");
  await page.getByRole("button", { name: "Send payment request" }).click();
  await expect(page.getByRole("status")).toContainText("Check your phone (…032)");
  await expect(page.getByRole("alert").filter({ hasText: /cancelled/ })).toContainText("You cancelled the M-Pesa request", { timeout: 30_000 });
  await page.getByLabel("M-Pesa phone number").fill("0712 345 678");
  await page.getByRole("button", { name: "Send again" }).click();
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
  for (const id of c.orderIds) expect((await orderStatus(request, id)).status).toBe("SUCCESS");
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });

  test("the checkout fits the screen and can be paid with the keyboard alone", async ({ page, request }) => {
    const c = await createCheckout(request, [{ seller: "books", amount: "42.00" }]);
    await page.goto(c.url);
    await expect(page.getByTestId("order-line")).toHaveCount(1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // Keyboard only: focus the method radios, switch to M-Pesa with an arrow key, type the phone, press Enter.
    await page.getByRole("radio", { name: "Card" }).focus();
    await page.keyboard.press("ArrowRight");
    await expect(page.getByRole("radio", { name: "M-Pesa" })).toBeChecked();
    await page.getByLabel("M-Pesa phone number").focus();
    await page.keyboard.type("0712345678");
    await page.keyboard.press("Enter");
    await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
  });
});

test("ops see the payment runs and their steps in the ops console", async ({ page, request }) => {
  const c = await createCheckout(request, [{ seller: "coffee", amount: "15.00" }]);
  await page.goto(c.url);
  await fillCard(page, "4242424242424242");
  await page.getByRole("button", { name: /^Pay KES\s15\.00$/ }).click();
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
  await signIn(page, "ops@demo.test", undefined, "/signin?callbackUrl=/ops/runs");
  const run = page.getByRole("row").filter({ hasText: "execute-payment-attempt" }).first();
  await expect(run).toBeVisible();
  await run.getByRole("link").first().click();
  await expect(page.getByRole("heading", { name: /execute-payment-attempt · completed/ })).toBeVisible();
  await expect(page.getByRole("cell", { name: "load-attempt" })).toBeVisible();
});

// ---- issue 11: branding, receipts, the pages that say why, and the checkout's bugs ----

const e2eSql = () => postgres(e2eDatabaseUrl(), { max: 1, onnotice: () => {} });

/** Moves a checkout with its own state machine (what risk rules and the expiry sweep do), on the e2e database. */
async function moveCheckout(checkoutId: string, moves: { to: "review" | "open" | "failed" | "blocked"; reason: CheckoutTransitionReason }[]) {
  const { db, close } = createDb(e2eDatabaseUrl(), { max: 1 });
  try {
    await db.transaction(async (tx) => {
      for (const m of moves) await transitionCheckout(tx, { checkoutId, to: m.to, reason: m.reason });
    });
  } finally {
    await close();
  }
}

/** Ops' decision on a held checkout, through the ops console's own service function. */
async function opsReview(checkoutId: string, approve: boolean) {
  const { db, close } = createDb(e2eDatabaseUrl(), { max: 1 });
  try {
    await reviewCheckout(db, { checkoutId, actorUserId: "usr_demo_ops", approve, note: "checked by the e2e" });
  } finally {
    await close();
  }
}

test("the checkout wears the merchant's branding; the Pay button's text keeps AA contrast on a light accent", async ({ page, request }) => {
  const sql = e2eSql();
  try {
    await sql`update merchants set display_name = 'Demo Books & Crafts', accent_color = '#ffd400', support_email = 'help@shop.example' where id = 'mer_demo'`;
    const c = await createCheckout(request, [{ seller: "books", amount: "12.00" }]);
    await page.goto(c.url);
    await expect(page.getByTestId("merchant-name")).toHaveText("Demo Books & Crafts");
    await expect(page.getByText("Pay Demo Books & Crafts")).toBeVisible();
    await expect(page.getByRole("link", { name: "help@shop.example" })).toHaveAttribute("href", "mailto:help@shop.example");
    const pay = page.getByRole("button", { name: /^Pay KES\s12\.00$/ });
    await expect(pay).toBeEnabled({ timeout: 15_000 });
    // Yellow accent: black text (white on #ffd400 would be 1.4:1).
    expect(await pay.evaluate((b) => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color])).toEqual(["rgb(255, 212, 0)", "rgb(0, 0, 0)"]);
  } finally {
    await sql`update merchants set display_name = null, accent_color = null, support_email = null where id = 'mer_demo'`;
    await sql.end();
  }
});

test.describe("amounts in the buyer's language", () => {
  test.use({ locale: "de-DE" });
  test("a German browser reads 1.650,49 (Accept-Language), with no hydration mismatch", async ({ page, request }) => {
    const errors: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    const c = await createCheckout(request, [
      { seller: "books", amount: "1200.00" },
      { seller: "crafts", amount: "450.49" },
    ]);
    await page.goto(c.url);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^1\.650,49\sKES$/);
    await expect(page.getByRole("button", { name: /^Pay 1\.650,49\sKES$/ })).toBeVisible();
    expect(errors.filter((e) => /hydrat/i.test(e))).toEqual([]);
  });
});

test("an unknown or malformed checkout link gets a branded 404 that says why", async ({ page }) => {
  for (const path of ["/pay/chk_01AAAAAAAAAAAAAAAAAAAAAAAA", "/pay/not-a-checkout"]) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(404);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Checkout not found");
    await expect(page.getByTestId("checkout-not-found")).toContainText("The link may be mistyped or incomplete. Nothing has been charged.");
  }
});

test("expired and rejected checkouts say why they cannot be paid", async ({ page, request }) => {
  const cases: { moves: Parameters<typeof moveCheckout>[1]; title: string }[] = [
    { moves: [{ to: "failed", reason: "expired" }], title: "This checkout has expired" },
    { moves: [{ to: "blocked", reason: "risk_blocked" }], title: "This payment cannot be accepted" },
    { moves: [{ to: "review", reason: "risk_review" }, { to: "blocked", reason: "review_rejected" }], title: "This payment was declined after review" },
  ];
  for (const k of cases) {
    const c = await createCheckout(request, [{ seller: "books", amount: "20.00" }]);
    await moveCheckout(c.checkoutId, k.moves);
    await page.goto(c.url);
    await expect(page.getByRole("heading", { name: k.title })).toBeVisible();
    await expect(page.getByTestId("checkout-closed")).toContainText("nothing was charged");
    // Opened on a closed checkout: a link back, no automatic redirect.
    await expect(page.getByRole("link", { name: "Return to Demo Merchant" })).toBeVisible();
    await expect(page.getByText(/Returning you to/)).toHaveCount(0);
  }
});

test("the review page updates by itself when ops approve it, then it can be paid", async ({ page, request }) => {
  const c = await createCheckout(request, [{ seller: "coffee", amount: "30.00" }]);
  await moveCheckout(c.checkoutId, [{ to: "review", reason: "risk_review" }]);
  await page.goto(c.url);
  await expect(page.getByRole("heading", { name: "This payment is being reviewed" })).toBeVisible();
  await opsReview(c.checkoutId, true);
  // No reload: the page polls while the review is open.
  await expect(page.getByRole("button", { name: /^Pay KES\s30\.00$/ })).toBeVisible({ timeout: 30_000 });
  await fillCard(page, "4242424242424242");
  await page.getByRole("button", { name: /^Pay KES\s30\.00$/ }).click();
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
});

test("bug: Back after the automatic return does not land on the checkout and send the buyer forward again", async ({ page, request }) => {
  const c = await createCheckout(request, [{ seller: "books", amount: "61.00" }]);
  await page.goto(`${SHOP}/cart`);
  await page.goto(c.url);
  await fillCard(page, "4242424242424242");
  await page.getByRole("button", { name: /^Pay KES\s61\.00$/ }).click();
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
  await page.waitForURL(new RegExp(`^${SHOP}/thanks\\?checkout_id=${c.checkoutId}&status=succeeded`), { timeout: 15_000 });
  // The return replaced the checkout in the history: Back goes to where the buyer was before it.
  await page.goBack();
  await expect(page).toHaveURL(`${SHOP}/cart`);
  // Opening the paid checkout again (a bookmark, history): its receipt and a link, no countdown, no redirect.
  await page.goto(c.url);
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible();
  await expect(page.getByTestId("receipt-reference")).toHaveText(c.checkoutId);
  await expect(page.getByRole("link", { name: "Return to Demo Merchant" })).toBeVisible();
  await expect(page.getByText(/Returning you to/)).toHaveCount(0);
  await expect(page).toHaveURL(c.url);
});

test("bug: a reload right after Pay shows the payment processing or paid, never 'already paid' as an error", async ({ page, request }) => {
  // Watches every document of the tab (the reload included) for the refusal's text, however briefly shown.
  await page.addInitScript(() => {
    const w = window as unknown as { __alreadyPaidSeen?: boolean };
    new MutationObserver(() => {
      if (document.body?.innerText.includes("already paid")) w.__alreadyPaidSeen = true;
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  const c = await createCheckout(request, [{ seller: "crafts", amount: "77.00" }]);
  await page.goto(c.url);
  await fillCard(page, "4242424242424242");
  const submitted = page.waitForRequest((r) => r.url().includes("checkout.submitCard"));
  await page.getByRole("button", { name: /^Pay KES\s77\.00$/ }).click();
  await submitted;
  await page.reload();
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
  expect(await page.evaluate(() => (window as unknown as { __alreadyPaidSeen?: boolean }).__alreadyPaidSeen ?? false)).toBe(false);
  await expect(page.getByRole("alert").filter({ hasText: /paid|error|wrong/i })).toHaveCount(0);
});

test("bug: an invalid M-Pesa phone gets a human sentence, not the validator's JSON", async ({ page, request }) => {
  const c = await createCheckout(request, [{ seller: "crafts", amount: "100.00" }]);
  await page.goto(c.url);
  await page.getByText("M-Pesa", { exact: true }).click();
  for (const phone of ["12345", "hello", "+44 7700 900123"]) {
    await page.getByLabel("M-Pesa phone number").fill(phone);
    await page.getByRole("button", { name: /Send payment request|Send again/ }).click();
    const error = page.getByTestId("mpesa-error");
    await expect(error).toHaveText("Enter a Safaricom number such as 0712 345 678.");
    await expect(page.getByLabel("M-Pesa phone number")).toHaveAttribute("aria-invalid", "true");
  }
  expect(await page.locator("body").innerText()).not.toMatch(/[{}]|too_small|Invalid input/);
});

test("M-Pesa: a countdown of the request's timeout while the phone is asked, with live status", async ({ page, request }) => {
  const c = await createCheckout(request, [{ seller: "coffee", amount: "25.00" }]);
  await page.goto(c.url);
  await page.getByText("M-Pesa", { exact: true }).click();
  await page.getByLabel("M-Pesa phone number").fill("0712 341 037"); // the sandbox never answers this phone
  await page.getByRole("button", { name: "Send payment request" }).click();
  await expect(page.getByTestId("mpesa-waiting")).toContainText("Check your phone (…037)", { timeout: 15_000 });
  const countdown = page.getByTestId("mpesa-countdown");
  await expect(countdown).toHaveText(/^[0-2]:[0-5]\d$/);
  const first = (await countdown.textContent())!;
  await expect(countdown).not.toHaveText(first, { timeout: 5_000 }); // it counts down
  await expect(page.getByRole("button", { name: "Waiting for M-Pesa…" })).toBeDisabled();
});

test("keyboard only: the Card/M-Pesa choice shows its focus, and the buyer pays with Tab, the arrow keys and Enter", async ({ page, request }) => {
  const c = await createCheckout(request, [{ seller: "books", amount: "1500.00" }]);
  await page.goto(c.url);
  await expect(page.getByRole("button", { name: /^Pay KES\s1,500\.00$/ })).toBeEnabled({ timeout: 15_000 });
  const card = page.getByRole("radio", { name: "Card" });
  for (let i = 0; i < 15 && !(await card.evaluate((e) => e === document.activeElement)); i++) await page.keyboard.press("Tab");
  await expect(card).toBeFocused();
  // The radio is visually hidden: its label draws the focus ring.
  const outline = await page.getByTestId("method-card").evaluate((l) => [getComputedStyle(l).outlineStyle, parseFloat(getComputedStyle(l).outlineWidth)] as const);
  expect(outline[0]).not.toBe("none");
  expect(outline[1]).toBeGreaterThan(0);
  // The radio group's keys choose the method; Tab goes on to the phone field; Enter sends the request.
  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("radio", { name: "M-Pesa" })).toBeChecked();
  expect(await page.getByTestId("method-mpesa").evaluate((l) => getComputedStyle(l).outlineStyle)).not.toBe("none");
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("M-Pesa phone number")).toBeFocused();
  await page.keyboard.type("0712 345 678");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("receipt-method")).toHaveText("M-Pesa");
  await expect(page.getByTestId("receipt-mpesa")).toHaveText(/^[A-Z0-9]{10}$/);
});

test("keyboard: the card Pay button is a real button (Enter pays once the PSP's field is filled)", async ({ page, request }) => {
  // The card number is typed in the PSP's own iframe (another origin): headless Chromium does not move Tab focus
  // into it, so the field is filled directly; everything of ours is driven by the keyboard.
  const c = await createCheckout(request, [{ seller: "crafts", amount: "2500.00" }]);
  await page.goto(c.url);
  await fillCard(page, "4242424242424242");
  const pay = page.getByRole("button", { name: /^Pay KES\s2,500\.00$/ });
  await pay.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("receipt-method")).toHaveText("Visa ending 4242");
});
