import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { answerShop, DEMO_ADMIN, DEMO_API_KEY as API_KEY, DEMO_OPS, DEMO_SHOP as SHOP, e2eDatabaseUrl, payByCard, signIn, startHookReceiver } from "./helpers";

// Issue 11's acceptance, end to end on the built app: a merchant finds a paid payment by the buyer's email and a
// date range, opens it and sees every kind of timeline entry, and exports the filtered list as CSV whose rows are the
// rows on screen; ops find the payment's runs and see the merchant's settings change in the audit log.

/** YYYY-MM-DD of a UTC day (the demo merchant's zone is UTC). */
const utcDay = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

/** A minimal RFC 4180 reader: enough for our export (quoted cells, doubled quotes, no embedded newlines needed). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += ch;
  }
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

test("a merchant finds a payment by buyer email and date, sees its whole timeline, and exports exactly the filtered rows", async ({ page, browser, request }) => {
  test.setTimeout(180_000);
  const hooks = await startHookReceiver("/hooks/acceptance");
  const hookUrl = hooks.url;
  try {
    await signIn(page, DEMO_ADMIN);
    await page.goto("/dashboard/developers");
    await page.getByLabel("Endpoint URL").fill(hookUrl);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await expect(page.getByTestId("new-webhook-secret")).toBeVisible();

    const id = `acc_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
    const email = `${id}@Buyer.example`;
    const created = await request.post("/api/v1/payments", {
      headers: { authorization: `Bearer ${API_KEY}`, "idempotency-key": id },
      data: {
        buyer_info: { email, country: "KE" },
        return_url: `${SHOP}/thanks`,
        payment_orders: [
          { payment_order_id: `${id}_a`, seller_account: "books", amount: "1200.00", currency: "KES" },
          { payment_order_id: `${id}_b`, seller_account: "crafts", amount: "34.50", currency: "KES" },
        ],
      },
    });
    expect(created.status()).toBe(201);
    const checkout = await created.json();
    // Another buyer's payment the search must leave out.
    const other = await request.post("/api/v1/payments", {
      headers: { authorization: `Bearer ${API_KEY}`, "idempotency-key": `${id}_other` },
      data: { buyer_info: { email: `other_${id}@buyer.example` }, return_url: `${SHOP}/thanks`, payment_orders: [{ payment_order_id: `${id}_other`, seller_account: "books", amount: "5.00", currency: "KES" }] },
    });
    expect(other.status()).toBe(201);

    const buyer = await (await browser.newContext()).newPage();
    await answerShop(buyer);
    await payByCard(buyer, checkout.checkout_url);
    await buyer.context().close();

    // Search by the buyer's email (any case) and a date range, in the URL.
    await page.goto("/dashboard/payments");
    await page.getByLabel("Search", { exact: true }).fill(email.toUpperCase());
    await page.getByLabel("From").fill(utcDay(-1));
    await page.getByLabel("To", { exact: true }).fill(utcDay(0));
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(page).toHaveURL(/q=/);
    const rows = page.getByTestId("payment-row");
    await expect(rows).toHaveCount(2);
    await expect(rows.filter({ hasText: `${id}_other` })).toHaveCount(0);
    const onScreen = (await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-payment-order-id")))).sort();
    expect(onScreen).toEqual([`${id}_a`, `${id}_b`]);
    await expect(rows.filter({ hasText: `${id}_a` })).toHaveAttribute("data-status", "SUCCESS");

    // A date range that excludes today finds nothing, and says the filters are why.
    // (Checked after the export so the export runs on the matching filters.)
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export CSV" }).click();
    const file = await (await download).path();
    const csv = parseCsv(readFileSync(file, "utf8").replace(/^\uFEFF/, "")).filter((r) => r.length > 1);
    const header = csv[0]!;
    const idCol = header.indexOf("payment_order_id");
    const statusCol = header.indexOf("status");
    const amountCol = header.indexOf("amount");
    expect(idCol).toBeGreaterThanOrEqual(0);
    const exported = csv.slice(1);
    expect(exported.map((r) => r[idCol]).sort()).toEqual(onScreen);
    expect(Object.fromEntries(exported.map((r) => [r[idCol], [r[statusCol], r[amountCol]]]))).toEqual({ [`${id}_a`]: ["SUCCESS", "1200.00"], [`${id}_b`]: ["SUCCESS", "34.50"] });

    // Open the detail: every kind of timeline entry is there.
    await rows.filter({ hasText: `${id}_a` }).getByRole("link", { name: `${id}_a` }).click();
    await expect(page).toHaveURL(new RegExp(`/dashboard/payments/${id}_a$`));
    const entries = page.getByTestId("timeline-entry");
    for (const kind of ["api_request", "risk", "transition", "psp_attempt", "psp_webhook", "ledger"]) {
      await expect(entries.and(page.locator(`[data-kind="${kind}"]`)).first(), `a ${kind} entry`).toBeVisible();
    }
    await expect(entries.and(page.locator('[data-kind="api_request"]')).first()).toContainText(id); // its idempotency key
    await expect(entries.and(page.locator('[data-kind="psp_attempt"]')).first()).toContainText(/pi_/);
    await expect(entries.and(page.locator('[data-kind="ledger"]')).first()).toContainText(/[0-9a-f]{64}/);
    // Webhooks out with their delivery attempts, once the endpoint has been called.
    await expect.poll(() => hooks.received.some((r) => r.body.includes(`${id}_a`)), { timeout: 60_000 }).toBe(true);
    await expect(async () => {
      await page.reload();
      await expect(page.getByTestId("timeline-entry").and(page.locator('[data-kind="webhook_out"]')).first()).toContainText("200", { timeout: 2_000 });
    }).toPass({ timeout: 60_000 });

    await page.goto(`/dashboard/payments?q=${encodeURIComponent(email)}&from=${utcDay(-9)}&to=${utcDay(-8)}`);
    await expect(page.getByTestId("empty-state")).toContainText("No payments match these filters");
  } finally {
    await hooks.close();
    // The receiver is gone: disable its endpoint so later specs do not run its retries.
    const sql = postgres(e2eDatabaseUrl(), { max: 1 });
    try {
      await sql`update webhook_endpoints set enabled = false, disabled_at = now() where url = ${hookUrl} and enabled`;
    } finally {
      await sql.end();
    }
  }
});

test("ops find a payment's runs, and the audit log shows the merchant's settings change", async ({ page, browser, request }) => {
  test.setTimeout(120_000);
  const id = `acc_ops_${Date.now()}`;
  const created = await request.post("/api/v1/payments", {
    headers: { authorization: `Bearer ${API_KEY}`, "idempotency-key": id },
    data: { buyer_info: { email: `${id}@buyer.example` }, return_url: `${SHOP}/thanks`, payment_orders: [{ payment_order_id: id, seller_account: "books", amount: "10.00", currency: "KES" }] },
  });
  expect(created.status()).toBe(201);
  const checkout = await created.json();
  const buyer = await (await browser.newContext()).newPage();
  await answerShop(buyer);
  await payByCard(buyer, checkout.checkout_url);
  await buyer.context().close();

  const supportEmail = `support+${Date.now()}@demo.test`;
  await signIn(page, DEMO_ADMIN, undefined, "/signin?callbackUrl=/dashboard/settings");
  await page.getByLabel("Support email").fill(supportEmail);
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByText("Saved.").first()).toBeVisible();

  const ops = await (await browser.newContext()).newPage();
  await signIn(ops, DEMO_OPS, undefined, "/signin?callbackUrl=/ops/runs");
  await ops.getByLabel("Search", { exact: true }).fill(id);
  await ops.getByRole("button", { name: "Search" }).click();
  await expect(ops.getByTestId("run-row").first()).toBeVisible({ timeout: 30_000 });
  await expect(ops.getByTestId("run-row").first().getByTestId("run-payment-link")).toHaveAttribute("href", `/ops/payments/${checkout.checkout_id}`);

  await ops.goto("/ops/audit");
  await ops.getByLabel("Action").selectOption("merchant.settings_updated");
  await ops.getByLabel("Actor email").fill(DEMO_ADMIN);
  await ops.getByRole("button", { name: /^(Apply|Filter)$/ }).click();
  await expect(ops.getByTestId("audit-row").filter({ hasText: supportEmail }).first()).toBeVisible();
});
