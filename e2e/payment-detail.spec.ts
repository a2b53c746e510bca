import { expect, test } from "@playwright/test";
import { answerShop, axeViolations, createDemoCheckout, DEMO_OPS, DEMO_VIEWER, payByCard, signIn } from "./helpers";

// The payment detail page in a browser: a payment created through the API and paid by card shows its orders with
// fee and net, the card, and every kind of timeline entry; ops open it by checkout id; an unknown id is the
// branded not-found page with a 404.

const KINDS = ["api_request", "risk", "transition", "psp_attempt", "psp_call", "psp_webhook", "ledger", "webhook_out"] as const;

test("a paid payment's detail shows its orders, the card and every timeline kind, for the merchant and for ops", async ({ page, browser, request }) => {
  const paid = await createDemoCheckout(request, [{ seller: "books", amount: "1650.49" }, { seller: "crafts", amount: "12000.00" }], "detail");
  await answerShop(page);
  await payByCard(page, paid.url);

  await signIn(page, DEMO_VIEWER);
  await page.goto(`/dashboard/payments/${encodeURIComponent(paid.orderIds[1]!)}`);
  const detail = page.getByTestId("payment-detail");
  await expect(detail).toHaveAttribute("data-checkout-id", paid.checkoutId);
  await expect(page.getByTestId("detail-order-row")).toHaveCount(2);
  await expect(page.getByTestId("detail-order-row").first()).toContainText("1,650.49");
  await expect(page.getByTestId("payment-method")).toContainText(/Visa ending 4242/);
  await expect(page.getByTestId("buyer-masked")).toHaveText(/^d\*\*\*@example\.test$/);
  await expect(page.getByRole("heading", { name: "Refunds and disputes" })).toBeVisible();
  // The PSP's webhooks and the ledger posting arrive asynchronously: reload until every kind is there.
  await expect(async () => {
    await page.reload();
    for (const kind of KINDS) await expect(page.locator(`[data-testid="timeline-entry"][data-kind="${kind}"]`).first()).toBeAttached({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.locator('[data-testid="timeline-entry"][data-kind="api_request"]').first()).toContainText(paid.id);
  await expect(page.getByTestId("ledger-hash").first()).toHaveText(/^[0-9a-f]{64}$/);

  // Open every <details> (ledger entries, deliveries) so axe checks what they hide too.
  await page.locator("details").evaluateAll((els) => els.forEach((el) => el.setAttribute("open", "")));
  expect(await axeViolations(page)).toEqual([]);

  const missing = await page.goto("/dashboard/payments/no-such-payment");
  expect(missing?.status()).toBe(404);
  await expect(page.getByTestId("payment-not-found")).toContainText("Payment not found");

  const ops = await browser.newPage();
  await signIn(ops, DEMO_OPS);
  await ops.goto(`/ops/payments/${paid.checkoutId}`);
  await expect(ops.getByTestId("payment-detail")).toHaveAttribute("data-checkout-id", paid.checkoutId);
  await expect(ops.locator('[data-testid="timeline-entry"][data-kind="ledger"]')).toHaveCount(2);
  await ops.close();
});
