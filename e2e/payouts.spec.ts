import { expect, test, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { toMinor } from "../components/payouts/amount";
import { answerShop, axeViolations, createDemoCheckout, DEMO_ADMIN, payByCard, signIn, signedInState } from "./helpers";
import { createConnectedAccount, createPayoutSeller, createSecondAdmin, liftPayoutHold, setApprovalThresholdMinor, settleCheckout } from "./payout-fixtures";

// Issue 13 acceptance in a browser. A buyer pays a new seller's order; its funds settle (the settlement job's
// function). An admin gives the seller a Stripe connected account (the 24 h hold shows, then is lifted as if a day
// had passed), sets the approval threshold, and requests a payout below it: it is sent at once and paid (the e2e
// server's engine runs execute-payout against the sandbox; the page polls), and its composition sums exactly to its
// amount, on the page and in the CSV. A second payout above the threshold waits for a second admin: the requester
// has no Approve button and the server refuses them too; another admin approves it and it is paid. axe clean on
// every screen; a phone layout without sideways scrolling. Screenshots land in e2e/screenshots/ (git-ignored).

const SCREENSHOTS = "e2e/screenshots";
const ORDER_AMOUNT = "1500.00";
const THRESHOLD = "1000.00";

async function noSidewaysScroll(page: Page) {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(scroll, "the document scrolls sideways on a phone").toBeLessThanOrEqual(client);
}

/** The payout page's composition: the items (read one by one) sum to the payout's amount, and the total row says so. */
async function expectComposition(page: Page): Promise<{ amount: bigint; kinds: string[] }> {
  const amount = BigInt((await page.getByTestId("payout-detail").getAttribute("data-amount-minor"))!);
  const items = await page.getByTestId("payout-item").evaluateAll((rows) => rows.map((r) => ({ kind: r.getAttribute("data-kind") ?? "", minor: r.getAttribute("data-minor") ?? "" })));
  expect(items.length).toBeGreaterThan(0);
  expect(items.reduce((sum, i) => sum + BigInt(i.minor), 0n), "the items sum to the payout amount").toBe(amount);
  await expect(page.getByTestId("composition-total")).toHaveAttribute("data-minor", amount.toString());
  await expect(page.getByTestId("composition-check")).toHaveAttribute("data-matches", "true");
  return { amount, kinds: items.map((i) => i.kind) };
}

/** A CSV line's cells (quoted cells may hold commas and doubled quotes). */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted && c === '"' && line[i + 1] === '"') {
      cur += '"';
      i++;
    } else if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) {
      cells.push(cur);
      cur = "";
    } else cur += c;
  }
  cells.push(cur);
  return cells;
}

/** The CSV link of the payout page: a CSV whose amount column sums to the payout amount, naming the paid order. */
async function expectCsv(page: Page, amount: bigint, mentions: string) {
  const href = (await page.getByTestId("composition-csv").getAttribute("href"))!;
  const res = await page.request.get(href);
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toMatch(/text\/csv/);
  const lines = (await res.text()).split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = csvCells(lines[0]!).map((h) => h.trim().toLowerCase());
  const col = header.indexOf("amount");
  expect(col, `an amount column in ${header.join(",")}`).toBeGreaterThanOrEqual(0);
  const rows = lines.slice(1).map(csvCells);
  expect(rows.length).toBe(await page.getByTestId("payout-item").count());
  expect(rows.reduce((sum, r) => sum + toMinor(r[col]!.trim(), "KES"), 0n), "the CSV's amounts sum to the payout").toBe(amount);
  expect(lines.join("\n")).toContain(mentions);
}

test("a merchant sees a payout and its composition; a payout above the threshold waits for a second admin, then is paid", async ({ page, browser, request }) => {
  test.setTimeout(300_000);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const seller = await createPayoutSeller("payout");
  const account = await createConnectedAccount();
  const secondAdmin = await createSecondAdmin();

  const paid = await createDemoCheckout(request, [{ seller: seller.reference, amount: ORDER_AMOUNT }], "payout");
  await answerShop(page);
  await payByCard(page, paid.url);
  // The platform's balance at the PSP funds every transfer to a connected account; on a fresh sandbox it would be
  // just this one charge net of the PSP's fee (less than the seller's share). Other sellers' sales fill it, as live.
  const float = await createDemoCheckout(request, [{ seller: "books", amount: "5000.00" }], "payout_float");
  await payByCard(page, float.url);
  await settleCheckout(paid.checkoutId);

  await signIn(page, DEMO_ADMIN);
  await page.goto("/dashboard/sellers");
  await expect(page.getByRole("heading", { name: "Sellers", exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sellers", exact: true })).toHaveAttribute("aria-current", "page");
  const sellerRow = page.locator(`[data-testid="seller-row"][data-seller-id="${seller.id}"]`);
  await expect(sellerRow).toContainText("No destination");
  expect(await axeViolations(page)).toEqual([]);
  await page.screenshot({ path: `${SCREENSHOTS}/payouts-sellers-desktop.png`, fullPage: true });
  await sellerRow.getByRole("link", { name: seller.name }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard/sellers/${seller.id}$`));
  await expect(page.getByTestId("no-destination-notice")).toBeVisible();

  // The destination: a connected account. Saving it holds payouts for 24 h (no Request payout meanwhile).
  await page.getByLabel("Connected account id").fill(account);
  await page.getByRole("button", { name: "Save destination" }).click();
  await expect(page.getByTestId("seller-destination")).toHaveText(`Stripe connected account ${account}`);
  await expect(page.getByTestId("held-notice")).toContainText("Payouts are held until");
  await expect(page.getByTestId("request-payout")).toHaveCount(0);
  expect(await axeViolations(page)).toEqual([]);
  await page.screenshot({ path: `${SCREENSHOTS}/payouts-seller-held-desktop.png`, fullPage: true });
  await liftPayoutHold(seller.id);
  await page.reload();
  await expect(page.getByTestId("held-notice")).toHaveCount(0);
  const balance = page.locator('[data-testid="seller-balance"][data-currency="KES"]');
  const payable = (await balance.getAttribute("data-payable"))!;
  const payableMinor = toMinor(payable, "KES");
  // The order's net of the platform fee, all of it settled and available.
  expect(payableMinor).toBeGreaterThan(100_000n);
  expect(payableMinor).toBeLessThanOrEqual(150_000n);
  expect(toMinor((await balance.getAttribute("data-available"))!, "KES")).toBe(payableMinor);

  // The maker-checker threshold, on the payouts page. Starting with none (other specs set one), so setting it is a
  // tightening: at once. A raise waits 24 h (one admin cannot switch approvals off alone).
  await setApprovalThresholdMinor(null);
  await page.goto("/dashboard/payouts");
  await page.getByLabel("Threshold (KES)").fill(THRESHOLD);
  await page.getByRole("button", { name: "Save threshold" }).click();
  await expect(page.getByTestId("approval-threshold")).toHaveAttribute("data-amount", THRESHOLD);
  await page.getByLabel("Threshold (KES)").fill("2000.00");
  await page.getByRole("button", { name: "Save threshold" }).click();
  await expect(page.getByTestId("approval-threshold-pending")).toContainText("Raised to KES 2,000.00");
  await expect(page.getByTestId("approval-threshold")).toHaveAttribute("data-amount", THRESHOLD);

  // A payout below the threshold: sent at once, paid.
  await page.goto(`/dashboard/sellers/${seller.id}`);
  await page.getByTestId("request-payout").click();
  const form = page.getByRole("dialog", { name: `Pay out ${seller.name}` });
  await expect(form.getByLabel("Amount (KES)")).toHaveValue(payable);
  expect(await axeViolations(page)).toEqual([]);
  await form.getByLabel("Amount (KES)").fill("99999.00");
  await form.getByRole("button", { name: "Continue" }).click();
  await expect(form.getByRole("alert")).toContainText("can be paid out now");
  await form.getByLabel("Amount (KES)").fill("300.00");
  await form.getByRole("button", { name: "Continue" }).click();
  const confirm = page.getByRole("dialog", { name: "Confirm the payout" });
  await expect(confirm).toContainText("sent to the PSP as soon as you confirm");
  await page.screenshot({ path: `${SCREENSHOTS}/payouts-request-confirm-desktop.png` });
  expect(await axeViolations(page)).toEqual([]);
  await confirm.getByRole("button", { name: "Pay out KES 300.00" }).click();
  await expect(page).toHaveURL(/\/dashboard\/payouts\/pyo_[0-9A-Z]{26}$/);
  const firstId = page.url().split("/").pop()!;
  const detail = page.getByTestId("payout-detail");
  await expect(detail).toHaveAttribute("data-status", "paid", { timeout: 120_000 });
  await expect(page.getByTestId("payout-status")).toHaveText("Paid");
  await expect(page.getByTestId("payout-amount")).toHaveText("KES 300.00");
  await expect(page.getByTestId("payout-destination")).toHaveText(`Stripe connected account ${account}`);
  await expect(page.getByTestId("payout-approval")).toHaveCount(0);
  const first = await expectComposition(page);
  expect(first.amount).toBe(30_000n);
  // The paid order is an item, linking to its payment, for its full amount (its fee is another item).
  const paymentItem = page.locator('[data-testid="payout-item"][data-kind="payment"]');
  await expect(paymentItem).toHaveCount(1);
  await expect(paymentItem).toHaveAttribute("data-minor", "150000");
  await expect(paymentItem.getByRole("link", { name: paid.orderIds[0]! }).first()).toHaveAttribute("href", `/dashboard/payments/${paid.orderIds[0]}`);
  await expectCsv(page, first.amount, paid.orderIds[0]!);
  expect(await axeViolations(page)).toEqual([]);
  await page.screenshot({ path: `${SCREENSHOTS}/payouts-detail-paid-desktop.png`, fullPage: true });

  // The payouts list shows it; its row opens it.
  await page.goto("/dashboard/payouts");
  await expect(page.getByRole("link", { name: "Payouts", exact: true })).toHaveAttribute("aria-current", "page");
  const listed = page.locator(`[data-testid="payout-row"][data-payout-id="${firstId}"]`);
  await expect(listed).toHaveAttribute("data-status", "paid");
  await expect(listed).toContainText(seller.name);
  expect(await axeViolations(page)).toEqual([]);
  await page.screenshot({ path: `${SCREENSHOTS}/payouts-list-desktop.png`, fullPage: true });
  await listed.getByRole("link", { name: firstId }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard/payouts/${firstId}$`));

  // The rest, above the threshold: it waits for a second admin.
  await page.goto(`/dashboard/sellers/${seller.id}`);
  await expect(balance).toHaveAttribute("data-payable", /.+/);
  const rest = toMinor((await balance.getAttribute("data-payable"))!, "KES");
  expect(rest).toBe(payableMinor - 30_000n);
  await page.getByTestId("request-payout").click();
  await form.getByRole("button", { name: "Continue" }).click();
  await expect(confirm.getByTestId("request-needs-approval")).toContainText("waits for another admin");
  expect(await axeViolations(page)).toEqual([]);
  await confirm.getByRole("button", { name: /^Request KES .* for approval$/ }).click();
  await expect(page).toHaveURL(/\/dashboard\/payouts\/pyo_[0-9A-Z]{26}$/);
  const secondId = page.url().split("/").pop()!;
  expect(secondId).not.toBe(firstId);
  await expect(detail).toHaveAttribute("data-status", "pending_approval");
  await expect(page.getByTestId("approval-waiting")).toContainText("Waiting for a second admin");
  await expect(page.getByTestId("approval-not-you")).toContainText("you cannot approve it");
  await expect(page.getByTestId("approve-payout")).toHaveCount(0);
  const second = await expectComposition(page);
  expect(second.amount).toBe(rest);
  // The server refuses the requester too (the button is not the guard), and nothing moves.
  const refused = await page.evaluate(async (payoutId) => {
    const res = await fetch("/api/trpc/payouts.approve", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ json: { payoutId } }) });
    return { status: res.status, body: await res.text() };
  }, secondId);
  expect(refused.status, refused.body).toBe(409);
  expect(refused.body).toContain("payout_self_approval");
  await page.reload();
  await expect(detail).toHaveAttribute("data-status", "pending_approval");
  expect(await axeViolations(page)).toEqual([]);
  await page.screenshot({ path: `${SCREENSHOTS}/payouts-detail-awaiting-desktop.png`, fullPage: true });

  // Another admin approves it; it is sent and paid.
  const other = await browser.newContext({ storageState: await signedInState(browser, secondAdmin) });
  try {
    const p2 = await other.newPage();
    await p2.goto(`/dashboard/payouts/${secondId}`);
    await expect(p2.getByTestId("payout-approval")).toHaveAttribute("data-can-approve", "true");
    await p2.getByTestId("approve-payout").click();
    const approve = p2.getByRole("dialog", { name: "Approve this payout?" });
    await expect(approve).toContainText(seller.name);
    expect(await axeViolations(p2)).toEqual([]);
    await p2.screenshot({ path: `${SCREENSHOTS}/payouts-approve-dialog-desktop.png` });
    await approve.getByTestId("approve-confirm").click();
    await expect(approve).toBeHidden();
    await expect(p2.getByTestId("payout-detail")).toHaveAttribute("data-status", "paid", { timeout: 120_000 });
    await expect(p2.getByTestId("payout-approved-by")).toContainText("Second Admin");
    await expect(p2.locator('[data-testid="payout-transition"][data-to="pending"]')).toContainText("Second Admin");
  } finally {
    await other.close();
  }

  // The seller's balance is paid out to the cent; the seller's page lists both payouts.
  await page.goto(`/dashboard/sellers/${seller.id}`);
  await expect(balance).toHaveAttribute("data-available", "0.00");
  await expect(page.getByTestId("payout-row")).toHaveCount(2);
  await expect(page.locator('[data-testid="payout-row"][data-status="paid"]')).toHaveCount(2);
  expect(await axeViolations(page)).toEqual([]);
  await page.screenshot({ path: `${SCREENSHOTS}/payouts-seller-desktop.png`, fullPage: true });

  // On a phone: the seller and the payout fit the width (tables scroll inside their own region).
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, storageState: await page.context().storageState() });
  try {
    const p = await phone.newPage();
    for (const [name, path] of [["seller", `/dashboard/sellers/${seller.id}`], ["detail", `/dashboard/payouts/${secondId}`], ["list", "/dashboard/payouts"]] as const) {
      await p.goto(path);
      await expect(p.getByRole("heading", { level: 2 }).first()).toBeVisible();
      await noSidewaysScroll(p);
      expect(await axeViolations(p)).toEqual([]);
      await p.screenshot({ path: `${SCREENSHOTS}/payouts-${name}-phone.png`, fullPage: true });
    }
  } finally {
    await phone.close();
  }

  // Another id is the branded not-found page, with a 404.
  const missing = await page.goto("/dashboard/payouts/pyo_00000000000000000000000000");
  expect(missing?.status()).toBe(404);
  await expect(page.getByTestId("payout-not-found")).toContainText("Payout not found");
});
