import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { E2E_LOG_FILE, E2E_STATE_FILE } from "../playwright.config";
import { findPans } from "../server/psp/pan-scan";
import { findPansInDatabase } from "../server/psp/pan-scan-db";
import { DEMO_ADMIN, signIn } from "./helpers";

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
  await expect(page.getByTestId("order-line")).toHaveCount(3);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("1650.49 KES");
  await fillCard(page, "4242424242424242");
  const pay = page.getByRole("button", { name: /^Pay 1650.49 KES$/ });
  await pay.dblclick(); // a double click never charges twice
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
  await page.waitForURL(new RegExp(`^${SHOP}/thanks\\?checkout_id=${c.checkoutId}&status=succeeded`), { timeout: 15_000 });

  for (const id of c.orderIds) expect((await orderStatus(request, id)).status).toBe("SUCCESS");
  await page.goto("/dashboard/payments");
  for (const id of c.orderIds) await expect(page.getByTestId("payment-row").filter({ hasText: id })).toContainText("SUCCESS");
  const after = await pendingBalances(page);
  // 2% platform fee (rounded down) stays with the platform: 1200.00 -> 1176.00, 350.50 -> 343.49, 99.99 -> 98.00.
  const plus = (a: string, b: string) => `${((BigInt(a.replace(/\D/g, "")) + BigInt(b)) / 100n).toString()}.${((BigInt(a.replace(/\D/g, "")) + BigInt(b)) % 100n).toString().padStart(2, "0")} KES`;
  expect(after.books).toBe(plus(before.books, "117600"));
  expect(after.crafts).toBe(plus(before.crafts, "34349"));
  expect(after.coffee).toBe(plus(before.coffee, "9800"));

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
  await page.getByRole("button", { name: /^Pay 500.00 KES$/ }).click();
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
  await page.getByRole("button", { name: /^Pay 15.00 KES$/ }).click();
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
  await signIn(page, "ops@demo.test", undefined, "/signin?callbackUrl=/ops/runs");
  const run = page.getByRole("row").filter({ hasText: "execute-payment-attempt" }).first();
  await expect(run).toBeVisible();
  await run.getByRole("link").first().click();
  await expect(page.getByRole("heading", { name: /execute-payment-attempt · completed/ })).toBeVisible();
  await expect(page.getByRole("cell", { name: "load-attempt" })).toBeVisible();
});
