import { expect, test, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { answerShop, axeViolations, createDemoCheckout, DEMO_ADMIN, payByCard, signIn } from "./helpers";

// Issue 12 acceptance: a merchant refunds part of one order from the payment detail page (the dialog prefilled with
// what is refundable, a reason, a confirm step), sees the refund succeed (the execution runs in the e2e server's
// engine against the sandbox; the page refreshes itself while the refund is with the PSP) and the seller's balance
// drop by the refunded amount (the demo merchant keeps its fee). The refunds list shows it. axe clean; a phone
// layout without sideways scrolling. Screenshots of the dialog land in e2e/screenshots/ (git-ignored).

const SCREENSHOTS = "e2e/screenshots";

/** The seller's available + pending − owed, in minor units, as the payment detail shows it. */
async function sellerBalance(page: Page, reference: string): Promise<bigint> {
  const w = page.locator(`[data-testid="seller-wallet"][data-seller-reference="${reference}"]`);
  const [a, p, o] = await Promise.all(["data-available", "data-pending", "data-owed"].map((k) => w.getAttribute(k)));
  return BigInt(a!) + BigInt(p!) - BigInt(o!);
}

async function noSidewaysScroll(page: Page) {
  expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
}

test("a merchant refunds part of one order from the payment detail and sees it succeed and the seller's balance drop", async ({ page, request }) => {
  test.setTimeout(180_000);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const paid = await createDemoCheckout(request, [{ seller: "books", amount: "1650.49" }, { seller: "crafts", amount: "120.00" }], "refund");
  await answerShop(page);
  await payByCard(page, paid.url);

  await signIn(page, DEMO_ADMIN);
  const orderId = paid.orderIds[0]!;
  await page.goto(`/dashboard/payments/${encodeURIComponent(orderId)}`);
  const row = page.locator(`[data-testid="refundable-order-row"][data-payment-order-id="${orderId}"]`);
  // The payment is applied (order SUCCESS, ledger posted) asynchronously: reload until the order is refundable.
  await expect(async () => {
    await page.reload();
    await expect(row.getByTestId("order-refundable")).toHaveAttribute("data-minor", "165049", { timeout: 1_000 });
  }).toPass({ timeout: 60_000 });
  const before = await sellerBalance(page, "books");
  const otherBefore = await sellerBalance(page, "crafts");

  await row.getByTestId("refund-button").click();
  const dialog = page.getByRole("dialog", { name: "Refund this payment order" });
  await expect(dialog).toBeVisible();
  const amount = dialog.getByLabel("Amount (KES)");
  await expect(amount).toHaveValue("1650.49");
  await expect(dialog).toContainText("KES 1,650.49");
  expect(await axeViolations(page)).toEqual([]);
  await page.screenshot({ path: `${SCREENSHOTS}/refund-dialog-desktop.png` });

  // More than refundable is refused in the dialog, before any call.
  await amount.fill("2000.00");
  await dialog.getByRole("button", { name: "Continue" }).click();
  await expect(dialog.getByRole("alert")).toContainText("At most KES 1,650.49");

  await amount.fill("500.00");
  await dialog.getByLabel("Reason").selectOption("duplicate");
  await dialog.getByRole("button", { name: "Continue" }).click();
  const confirm = page.getByRole("dialog", { name: "Confirm the refund" });
  await expect(confirm.getByTestId("refund-confirm")).toContainText("KES 500.00");
  await page.screenshot({ path: `${SCREENSHOTS}/refund-dialog-confirm-desktop.png` });
  expect(await axeViolations(page)).toEqual([]);
  await confirm.getByRole("button", { name: "Refund KES 500.00" }).click();
  await expect(confirm).toBeHidden();

  // The refund is created at once (pending) and succeeds once the PSP answers; the page refreshes itself meanwhile.
  const refundRow = page.getByTestId("refund-row").first();
  await expect(refundRow).toContainText("KES 500.00");
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("refund-row").first()).toHaveAttribute("data-status", "succeeded", { timeout: 1_000 });
  }).toPass({ timeout: 90_000 });
  await expect(row.getByTestId("order-refundable")).toHaveAttribute("data-minor", "115049");
  expect(before - (await sellerBalance(page, "books"))).toBe(50_000n);
  expect(await sellerBalance(page, "crafts")).toBe(otherBefore);
  await expect(page.locator('[data-testid="timeline-entry"][data-kind="refund"]').first()).toBeAttached();
  await page.locator("details").evaluateAll((els) => els.forEach((el) => el.setAttribute("open", "")));
  expect(await axeViolations(page)).toEqual([]);

  // The refunds list, filtered to the order through the URL, links back to the payment.
  await page.goto(`/dashboard/refunds?order=${encodeURIComponent(orderId)}`);
  const listed = page.getByTestId("refund-list-row");
  await expect(listed).toHaveCount(1);
  await expect(listed).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByRole("link", { name: "Refunds", exact: true })).toHaveAttribute("aria-current", "page");
  expect(await axeViolations(page)).toEqual([]);
  await listed.getByRole("link", { name: orderId }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard/payments/${orderId}$`));

  // A phone: the section and the dialog fit without sideways scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(page.getByTestId("refunds-disputes")).toBeVisible();
  await noSidewaysScroll(page);
  await row.getByTestId("refund-button").click();
  await expect(page.getByRole("dialog", { name: "Refund this payment order" }).getByLabel("Amount (KES)")).toHaveValue("1150.49");
  await noSidewaysScroll(page);
  await page.screenshot({ path: `${SCREENSHOTS}/refund-dialog-phone.png` });
  expect(await axeViolations(page)).toEqual([]);
});
