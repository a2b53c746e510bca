import { expect, test, type Page } from "@playwright/test";
import { createSecondOpsUser, DEMO_OPS, signIn } from "./helpers";
import { seedAmountMismatchCase } from "./recon-fixtures";

// Reconciliation in the ops console (/ops/reconciliation): one amount_mismatch case (the PSP reported 105.00 USD for a
// charge we hold at 100.00; delta +500) is merged in by the matcher's own syncCases (e2e/recon-fixtures.ts). Ops user
// A finds it by filtering on its type, opens it, sees both sides and the implied entry, and proposes the adjustment;
// A cannot approve it (four eyes). Ops user B approves it: the case is resolved by the adjustment, its ledger
// transaction is on the case page, and the audit log has both actions.

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `/tmp/recon-${name}.png`, fullPage: true });
  await page.screenshot({ path: test.info().outputPath(`${name}.png`), fullPage: true });
}

test("ops propose an adjusting entry for a mismatch case, a second ops user approves it, the case closes and the audit log has both", async ({ page, browser }) => {
  const fixture = await seedAmountMismatchCase("e2erecon");

  // Ops user A: the list, filtered by type.
  await signIn(page, DEMO_OPS, undefined, "/signin?callbackUrl=/ops/reconciliation");
  await page.waitForURL("**/ops/reconciliation");
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: /^Reconciliation/ })).toBeVisible();
  await expect(page.getByTestId("recon-report")).toBeVisible();
  await expect(page.getByTestId("report-csv")).toHaveAttribute("href", "/api/ops/reconciliation/report.csv");
  await expect(page.getByTestId("report-open-by-type").getByText(/Amount mismatch: \d+/)).toBeVisible();

  await page.getByLabel("Type").selectOption("amount_mismatch");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/[?&]type=amount_mismatch/);
  const row = page.locator(`[data-testid="case-row"][data-case-id="${fixture.caseId}"]`);
  await expect(row).toBeVisible();
  await expect(row).toContainText(fixture.reference);
  await expect(row).toContainText("$5.00");
  await expect(row).toContainText("Card (Stripe)");
  await expect(row.getByTestId("case-status")).toHaveAttribute("data-status", "open");
  // Every row shown is of the filtered type.
  const types = await page.getByTestId("case-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-type")));
  expect(new Set(types)).toEqual(new Set(["amount_mismatch"]));
  await shot(page, "list");

  // The case page: both sides and the implied entry.
  await row.getByTestId("case-link").click();
  await page.waitForURL(`**/ops/reconciliation/${fixture.caseId}`);
  const detail = page.getByTestId("case-detail");
  await expect(detail).toHaveAttribute("data-status", "open");
  await expect(page.getByTestId("case-amount-at-risk")).toContainText("$5.00");
  await expect(page.getByTestId("psp-facts-amount")).toHaveText("$105.00");
  await expect(page.getByTestId("ledger-facts-amount")).toHaveText("$100.00");
  await expect(page.getByTestId("psp-side").getByTestId("settlement-row")).toHaveCount(1);
  const implied = page.getByTestId("implied-adjustment").getByTestId("adjustment-line");
  await expect(implied).toHaveCount(2);
  await expect(implied.and(page.locator('[data-account="psp_clearing"][data-side="debit"][data-amount="500"]'))).toHaveCount(1);
  await expect(implied.and(page.locator('[data-account="recon_adjustments"][data-side="credit"][data-amount="500"]'))).toHaveCount(1);

  // No note: refused before anything is sent.
  const propose = page.getByTestId("propose-form");
  await propose.getByRole("button", { name: "Propose adjustment" }).click();
  await expect(propose.getByRole("alert")).toContainText("Enter a note");
  await propose.getByLabel("Why the ledger should be adjusted (required)").fill("Stripe settled 105.00 for this charge: book the 5.00 difference.");
  await propose.getByRole("button", { name: "Propose adjustment" }).click();
  const pending = page.getByTestId("pending-adjustment");
  await expect(pending).toBeVisible();
  const adjustmentId = await pending.getAttribute("data-adjustment-id");
  expect(adjustmentId).toMatch(/^rad_/);
  // Four eyes: A proposed it, so A is told why there is no Approve.
  await expect(page.getByTestId("four-eyes")).toContainText("You proposed this adjustment, so you cannot approve it");
  await expect(page.getByRole("button", { name: "Approve and post" })).toHaveCount(0);
  await expect(page.getByTestId("case-transition")).toHaveCount(1);
  await shot(page, "case-proposed");

  // Ops user B approves.
  const opsB = await createSecondOpsUser("recon-ops2");
  const context = await browser.newContext();
  try {
    const b = await context.newPage();
    await signIn(b, opsB, undefined, `/signin?callbackUrl=/ops/reconciliation/${fixture.caseId}`);
    await b.waitForURL(`**/ops/reconciliation/${fixture.caseId}`);
    const approve = b.getByTestId("approve-form");
    await expect(b.getByTestId("four-eyes")).toHaveCount(0);
    await approve.getByLabel("Approval note (optional)").fill("Checked against the Stripe dashboard.");
    const button = approve.getByRole("button", { name: "Approve and post" });
    await button.click();
    const detailB = b.getByTestId("case-detail");
    await expect(detailB).toHaveAttribute("data-status", "resolved");
    await expect(detailB).toHaveAttribute("data-resolution", "adjustment");
    await expect(b.getByTestId("case-status")).toHaveText("Resolved · adjustment");
    await expect(b.getByTestId("pending-adjustment")).toHaveCount(0);
    // The adjustment's ledger transaction, with its two entries.
    const adjustment = b.getByTestId("case-adjustments").getByTestId("adjustment");
    await expect(adjustment).toHaveAttribute("data-status", "approved");
    const ledgerTxId = await b.getByTestId("adjustment-ledger-transaction").textContent();
    expect(ledgerTxId).toMatch(/^ltx_/);
    const tx = b.locator(`[data-testid="ledger-transaction"][data-transaction-id="${ledgerTxId}"]`);
    await expect(tx).toHaveAttribute("data-source", "recon_adjustment");
    await expect(tx.getByTestId("ledger-entry")).toHaveCount(2);
    await expect(tx.getByTestId("ledger-entry").filter({ hasText: "psp_clearing:stripe" })).toContainText("$5.00");
    await expect(tx.getByTestId("ledger-entry").filter({ hasText: "recon_adjustments" })).toContainText("$5.00");
    await expect(b.getByTestId("case-transition").last()).toHaveAttribute("data-to", "resolved");
    await expect(b.getByText("This case is resolved.")).toBeVisible();
    await shot(b, "case-resolved");

    // The audit log: both actions, by their two users.
    await b.goto(`/ops/audit?target=${adjustmentId}`);
    const rows = b.getByTestId("audit-row");
    await expect(rows).toHaveCount(2);
    await expect(b.locator('[data-testid="audit-row"][data-action="recon_adjustment.proposed"]')).toContainText(DEMO_OPS);
    await expect(b.locator('[data-testid="audit-row"][data-action="recon_adjustment.approved"]')).toContainText(opsB);
    await shot(b, "audit");
  } finally {
    await context.close();
  }

  // Back on A's page: the case is resolved there too, and is gone from the unresolved list.
  await page.reload();
  await expect(page.getByTestId("case-detail")).toHaveAttribute("data-status", "resolved");
  await page.goto("/ops/reconciliation?type=amount_mismatch");
  await expect(page.locator(`[data-testid="case-row"][data-case-id="${fixture.caseId}"]`)).toHaveCount(0);
  await page.goto("/ops/reconciliation?type=amount_mismatch&status=resolved");
  await expect(page.locator(`[data-testid="case-row"][data-case-id="${fixture.caseId}"]`).getByTestId("case-status")).toHaveAttribute("data-resolution", "adjustment");
});

test("a merchant user gets no reconciliation console", async ({ page }) => {
  await signIn(page, "admin@demo.test", undefined, "/signin?callbackUrl=/ops/reconciliation");
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  await expect(page).toHaveURL(/\/no-access/);
});
