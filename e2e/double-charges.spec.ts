import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { createDb } from "../db/client";
import { paymentAttempts } from "../db/schema";
import { E2E_STATE_FILE } from "../playwright.config";
import { money } from "../server/money";
import { applyAttemptOutcome } from "../server/payments/apply-outcome";
import { DEMO_OPS, DEMO_VIEWER, signIn } from "./helpers";

// A buyer charged twice for one checkout: the merchant's "Charged twice" panel and badge on the payments page,
// and the ops queue where the extra charge is marked refunded. The checkout is created through the public API;
// its two card charges are the PSP outcomes the payment engine would apply (first pays, second is the double
// charge), applied with the engine's own function on the e2e server's database.

const API_KEY = "sk_test_DemoDemoDemoDemoDemoDemoDemoDemo"; // seeded demo key (scripts/seed-demo.ts)
const TOTAL = "2500.00";

async function seedDoubleCharge(request: APIRequestContext) {
  const id = `e2e_dc_${Date.now()}`;
  const res = await request.post("/api/v1/payments", {
    headers: { authorization: `Bearer ${API_KEY}`, "idempotency-key": id },
    data: {
      buyer_info: { email: `${id}@example.test`, country: "KE" },
      return_url: "https://shop.example/thanks",
      payment_orders: [{ payment_order_id: id, seller_account: "books", amount: TOTAL, currency: "KES" }],
    },
  });
  expect(res.status()).toBe(201);
  const checkoutId = (await res.json()).checkout_id as string;

  const state = JSON.parse(readFileSync(E2E_STATE_FILE, "utf8")) as { databaseUrl: string };
  // E2E only ever touches its own throwaway local database.
  expect(new URL(state.databaseUrl).hostname).toBe("127.0.0.1");
  const { db, close } = createDb(state.databaseUrl, { max: 1 });
  try {
    const charge = async (attemptNo: number, status: "pending" | "canceled") => {
      const pspReference = `pi_${id}_${attemptNo}`;
      const [a] = await db
        .insert(paymentAttempts)
        .values({ checkoutId, attemptNo, method: "card", psp: "stripe", status, idempotencyKey: `${id}:${attemptNo}`, pspReference })
        .returning();
      return applyAttemptOutcome(db, a!.id, { psp: "stripe", pspReference, status: "succeeded", amount: money(250_000n, "KES"), receipt: `ch_${id}_${attemptNo}` });
    };
    expect(await charge(1, "pending")).toBe("succeeded");
    expect(await charge(2, "canceled")).toBe("double_charge");
  } finally {
    await close();
  }
  return { orderId: id, checkoutId, pspReference: `pi_${id}_2`, receipt: `ch_${id}_2` };
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: test.info().outputPath(`${name}.png`), fullPage: true });
}

test("a double charge: the merchant sees it, ops mark it refunded, the merchant sees the refund", async ({ page, browser, request }) => {
  const dc = await seedDoubleCharge(request);

  await signIn(page, DEMO_VIEWER, undefined, "/signin?callbackUrl=/dashboard/payments");
  await page.waitForURL("**/dashboard/payments");
  const panel = page.getByTestId("double-charges-panel");
  await expect(panel.getByRole("heading", { name: /Charged twice/ })).toBeVisible();
  await expect(panel).toContainText("The buyer was charged twice for one checkout. The extra charge is not in your balance and will be refunded to the buyer.");
  const item = panel.getByTestId("double-charge").filter({ hasText: dc.pspReference });
  await expect(item).toContainText("KES 2,500.00");
  await expect(item).toContainText("Card (Stripe)");
  await expect(item).toContainText(dc.checkoutId);
  await expect(item).toContainText("Refund pending");
  const row = page.getByTestId("payment-row").filter({ hasText: dc.orderId });
  await expect(row).toHaveAttribute("data-status", "SUCCESS");
  await expect(row.getByTestId("double-charge-badge")).toHaveText("Charged twice");
  await shot(page, "1-merchant-charged-twice");

  const ops = await (await browser.newContext()).newPage();
  await signIn(ops, DEMO_OPS, undefined, "/signin?callbackUrl=/ops/double-charges");
  await ops.waitForURL("**/ops/double-charges");
  await expect(ops.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Double charges" })).toBeVisible();
  const queued = ops.getByTestId("double-charge-item").filter({ hasText: dc.pspReference });
  await expect(queued).toContainText("Demo Merchant");
  await expect(queued).toContainText("KES 2,500.00");
  await expect(queued).toContainText(dc.receipt);
  await expect(queued).toContainText(dc.checkoutId);
  await expect(queued.getByTestId("age")).toHaveText(/^(just now|\d+ min ago)$/);

  // No note: refused, said clearly.
  await queued.getByRole("button", { name: "Mark refunded" }).click();
  await expect(queued.getByRole("alert")).toHaveText("Enter the PSP refund reference (or a note).");
  await shot(ops, "2-ops-queue-note-required");

  await queued.getByLabel("Refund reference or note").fill("re_e2e_1 refunded in the Stripe dashboard");
  await queued.getByRole("button", { name: "Mark refunded" }).click();
  await expect(queued).toHaveCount(0);
  // No other spec records a double charge: the queue is now empty.
  await expect(ops.getByText("No double charges await a refund.")).toBeVisible();
  await shot(ops, "3-ops-queue-empty");
  await ops.getByLabel("Show refunded").check();
  await expect(ops.getByTestId("double-charge-item").filter({ hasText: dc.pspReference }).getByTestId("refunded")).toContainText("re_e2e_1 refunded in the Stripe dashboard");
  await shot(ops, "4-ops-show-refunded");
  await ops.context().close();

  await page.reload();
  await expect(panel).toContainText("The extra charge was never in your balance and has been refunded to the buyer.");
  await expect(item).toContainText("Refunded");
  await expect(item).toContainText("re_e2e_1 refunded in the Stripe dashboard");
  await expect(row.getByTestId("double-charge-badge")).toHaveText("Charged twice · refunded");
  await shot(page, "5-merchant-refunded");
  await page.setViewportSize({ width: 375, height: 740 });
  await shot(page, "6-merchant-refunded-phone");
});
