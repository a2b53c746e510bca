import { expect, test, type Page } from "@playwright/test";
import postgres from "postgres";
import { answerShop, axeViolations, createDemoCheckout, DEMO_ADMIN, e2eDatabaseUrl, payByCard, signIn } from "./helpers";

// A chargeback end to end in a browser: a buyer pays with the sandbox's disputed card (4000 0000 0000 0259), the
// dispute arrives by the PSP's webhooks and shows on the disputes page with its deadline, the merchant submits
// evidence once (winning_evidence), the sandbox decides it won, and the sellers' balances are reinstated exactly:
// the dispute page shows each seller's wallet, lowered by its share at the withdrawal and restored after.

const DISPUTED_CARD = "4000000000000259";

type WalletRow = { seller: string; net: bigint };

/** Each seller's wallet as the dispute page shows it: available + pending - owed, minor units. */
async function wallets(page: Page): Promise<WalletRow[]> {
  return page.getByTestId("dispute-wallet-row").evaluateAll((rows) =>
    rows.map((r) => ({ seller: r.getAttribute("data-seller") ?? "", net: `${BigInt(r.getAttribute("data-available") ?? "0") + BigInt(r.getAttribute("data-pending") ?? "0") - BigInt(r.getAttribute("data-owed") ?? "0")}` })),
  ).then((rows) => rows.map((r) => ({ seller: r.seller, net: BigInt(r.net) })));
}

async function noSidewaysScroll(page: Page) {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(scroll, "the document scrolls sideways on a phone").toBeLessThanOrEqual(client);
}

test("a disputed card payment: the dispute shows with its deadline, evidence wins it, the sellers' balances are reinstated", async ({ page, browser, request }) => {
  test.setTimeout(180_000);
  const paid = await createDemoCheckout(request, [{ seller: "books", amount: "1200.00" }, { seller: "crafts", amount: "300.00" }], "dispute");
  await answerShop(page);
  await payByCard(page, paid.url, DISPUTED_CARD);

  await signIn(page, DEMO_ADMIN);
  await page.goto("/dashboard/disputes");
  await expect(page.getByRole("heading", { name: "Disputes", exact: true })).toBeVisible();
  // The dispute arrives through the PSP's webhooks and the sync function: reload until its row is there.
  const row = page.getByTestId("dispute-row").filter({ hasText: paid.orderIds[0]! });
  await expect(async () => {
    await page.reload();
    await expect(row).toHaveCount(1, { timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  await expect(row).toHaveAttribute("data-status", "needs_response");
  // The absolute deadline (created + 7 days, in the merchant's zone) and the time left.
  const deadline = row.getByTestId("dispute-deadline");
  await expect(deadline).toHaveAttribute("data-deadline-kind", "open");
  await expect(deadline.locator("time")).toHaveAttribute("datetime", /^\d{4}-\d{2}-\d{2}T/);
  await expect(deadline).toContainText(/(6 days 23 h|7 days) left/);
  expect(await axeViolations(page)).toEqual([]);

  // The overview's notice: a 72 h reminder as the dispute-reminders cron writes it (its deadline is 7 days away, so
  // the cron itself would not send one yet), shown with the deadline until an admin dismisses it.
  const disputeId = (await row.getAttribute("data-dispute-id"))!;
  const sql = postgres(e2eDatabaseUrl(), { max: 1, onnotice: () => {} });
  try {
    await sql`insert into dispute_reminders (id, dispute_id, merchant_id, kind, due_by)
              select ${`dsr_E2E${Date.now()}`.padEnd(30, "0").slice(0, 30)}, id, merchant_id, '72h', evidence_due_by from disputes where id = ${disputeId}`;
  } finally {
    await sql.end();
  }
  await page.goto("/dashboard");
  const notice = page.getByTestId("dispute-notice").filter({ has: page.locator(`[href="/dashboard/disputes/${disputeId}"]`) });
  await expect(notice).toContainText("KES 1,500.00");
  await expect(notice).toContainText(/left/);
  expect(await axeViolations(page)).toEqual([]);
  await notice.getByRole("button", { name: /^Dismiss/ }).click();
  await expect(notice).toHaveCount(0);
  await page.goto("/dashboard/disputes");

  await row.getByRole("link").first().click();
  await expect(page).toHaveURL(/\/dashboard\/disputes\/dsp_/);
  const detail = page.getByTestId("dispute-detail");
  await expect(detail).toBeVisible();
  await expect(page.getByTestId("dispute-amount")).toContainText("1,500.00");
  await expect(page.getByTestId("dispute-allocation-row")).toHaveCount(2);
  await expect(page.getByTestId("dispute-allocation-row").first()).toContainText("1,200.00");
  await expect(page.getByTestId("dispute-allocation-row").first().getByRole("link", { name: paid.orderIds[0]! })).toHaveAttribute("href", `/dashboard/payments/${paid.orderIds[0]}`);
  // The withdrawal is posted with the dispute (the fee is known from it).
  await expect(page.getByTestId("dispute-money-effect")).toContainText("were withdrawn", { timeout: 30_000 });
  await expect(page.getByTestId("dispute-fee")).not.toHaveText(/^KES\s?0\.00$/);
  const withdrawn = await wallets(page);
  expect(withdrawn.map((w) => w.seller).sort()).toEqual(["books", "crafts"]);
  expect(await axeViolations(page)).toEqual([]);

  // Evidence, once, behind a confirm dialog.
  await page.getByLabel("Your evidence").fill("Delivered and signed for. winning_evidence");
  await page.getByLabel("Buyer's name").fill("Dana Buyer");
  await page.getByRole("button", { name: "Submit evidence" }).click();
  const dialog = page.getByRole("dialog", { name: "Submit this evidence?" });
  await expect(dialog).toContainText("You can submit evidence once");
  expect(await axeViolations(page)).toEqual([]);
  const once = dialog.getByRole("button", { name: "Submit evidence once" });
  await once.click();
  // The sandbox decides on the winning text; the page polls until the dispute is won and the funds are back.
  await expect(detail).toHaveAttribute("data-status", "won", { timeout: 60_000 });
  await expect(page.getByTestId("dispute-money-effect")).toContainText("have been reinstated", { timeout: 60_000 });
  await expect(page.getByTestId("dispute-response")).toContainText("Evidence submitted on");
  await expect(page.getByRole("button", { name: "Submit evidence" })).toHaveCount(0);

  // Each seller is back by exactly its share of the amount and of the fee (the allocation the page shows).
  const shares = await page.getByTestId("dispute-allocation-row").evaluateAll((rows) => rows.map((r) => ({ seller: r.getAttribute("data-seller") ?? "", amount: r.getAttribute("data-amount") ?? "", fee: r.getAttribute("data-fee") ?? "" })));
  expect(shares.map((s) => [s.seller, s.amount])).toEqual([["books", "120000"], ["crafts", "30000"]]);
  expect(shares.reduce((sum, s) => sum + BigInt(s.fee), 0n)).toBeGreaterThan(0n);
  const reinstated = await wallets(page);
  for (const s of shares) {
    const before = withdrawn.find((w) => w.seller === s.seller)!.net;
    const after = reinstated.find((w) => w.seller === s.seller)!.net;
    expect(after - before, `${s.seller}'s balance reinstated by its share`).toBe(BigInt(s.amount) + BigInt(s.fee));
  }
  expect(await axeViolations(page)).toEqual([]);

  // On a phone: the list and the detail fit the width (tables scroll inside their own region).
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, storageState: await page.context().storageState() });
  const p = await phone.newPage();
  await p.goto("/dashboard/disputes");
  await expect(p.getByTestId("dispute-row").first()).toBeVisible();
  await noSidewaysScroll(p);
  await p.goto(page.url());
  await expect(p.getByTestId("dispute-detail")).toBeVisible();
  await noSidewaysScroll(p);
  expect(await axeViolations(p)).toEqual([]);
  await phone.close();

  // Another id is the branded not-found page, with a 404.
  const missing = await page.goto("/dashboard/disputes/dsp_00000000000000000000000000");
  expect(missing?.status()).toBe(404);
  await expect(page.getByTestId("dispute-not-found")).toContainText("Dispute not found");
});
