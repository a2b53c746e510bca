import { expect, test, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { createDb } from "../db/client";
import { E2E_STATE_FILE } from "../playwright.config";
import { recordException } from "../server/exceptions/record-exception";
import { DEMO_ADMIN, DEMO_OPS, signIn } from "./helpers";

// The app's own exceptions queue (/ops/exceptions). Two exceptions are recorded with the domain's own recorder
// (server/exceptions/record-exception.ts) on the e2e server's database: a payment attempt whose outcome is
// unknown (nothing to re-emit: resolve only), a failed job whose event can be re-emitted (retry) and a stuck
// webhook delivery that stays open. Ops find
// them, filter, open one, resolve it with a note, retry the other; a merchant user gets no access.

async function seedExceptions() {
  const tag = `e2e${Date.now()}`;
  const state = JSON.parse(readFileSync(E2E_STATE_FILE, "utf8")) as { databaseUrl: string };
  // E2E only ever touches its own throwaway local database.
  expect(new URL(state.databaseUrl).hostname).toBe("127.0.0.1");
  const { db, close } = createDb(state.databaseUrl, { max: 1 });
  try {
    // No payment_attempts row has this id, so the janitor has no outcome to auto-resolve it with.
    const unknown = await recordException(db, {
      kind: "payment_attempt",
      subjectType: "payment_attempt",
      subjectId: `psa_${tag}`,
      merchantId: null,
      reason: "outcome_unknown",
      code: "psp_outcome_unknown",
      message: `STK push ${tag}: no answer from M-Pesa after 10 checks`,
      functionId: "paybridge-execute-payment-attempt",
      runId: `run_${tag}`,
      retryEvent: null,
    });
    const job = await recordException(db, {
      kind: "job",
      subjectType: "function",
      subjectId: `ping-${tag}`,
      merchantId: null,
      reason: "retries_exhausted",
      code: null,
      message: `platform ping ${tag} failed every retry`,
      functionId: "paybridge-platform-ping",
      runId: null,
      retryEvent: { name: "platform/ping", data: { message: `retry ${tag}` } },
    });
    // Left open: the phone view then has the nav badge and an open row to act on.
    const webhook = await recordException(db, {
      kind: "merchant_webhook",
      subjectType: "webhook_delivery",
      subjectId: `whd_${tag}`,
      merchantId: null,
      reason: "stuck",
      code: null,
      // A long unbroken id, as real messages carry: it must wrap, not widen the table.
      message: `webhook delivery ${tag} pending past its deadline (endpoint whe_${tag}${"Q".repeat(48)})`,
      functionId: null,
      runId: null,
      retryEvent: null,
    });
    return { tag, unknownId: unknown.id, jobId: job.id, webhookId: webhook.id };
  } finally {
    await close();
  }
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: test.info().outputPath(`${name}.png`), fullPage: true });
}

const rowOf = (page: Page, id: string) => page.locator(`[data-testid="exception-row"][data-exception-id="${id}"]`);

test("ops find an exception, filter, open it and resolve it with a note; retry re-emits the event and shows its id", async ({ page }) => {
  const seeded = await seedExceptions();

  await signIn(page, DEMO_OPS, undefined, "/signin?callbackUrl=/ops/exceptions");
  await page.waitForURL("**/ops/exceptions");
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: /^Exceptions/ })).toBeVisible();
  // At least our three are open (other specs may have recorded more).
  const badge = nav.getByRole("link", { name: /^Exceptions/ }).getByTestId("nav-badge");
  await expect(badge).toHaveText(/^\d+ open$/);
  const openCount = async () => ((await badge.count()) ? Number((await badge.textContent())!.split(" ")[0]) : 0);
  const openBefore = await openCount();
  expect(openBefore).toBeGreaterThanOrEqual(3);

  // Default filter: open. Both seeded exceptions are listed with what ops need to act.
  const unknown = rowOf(page, seeded.unknownId);
  await expect(unknown).toContainText("Payment attempt");
  await expect(unknown).toContainText(`psa_${seeded.tag}`);
  await expect(unknown).toContainText("Outcome unknown");
  await expect(unknown).toContainText("psp_outcome_unknown");
  await expect(unknown).toContainText("no answer from M-Pesa after 10 checks");
  await expect(unknown.locator("[data-status]")).toHaveText("open");
  // The local engine runs the e2e server's functions: its run pages exist, so the run id links there.
  await expect(unknown.getByRole("link", { name: `run_${seeded.tag}` })).toHaveAttribute("href", `/ops/runs?run=run_${seeded.tag}`);
  // Nothing to re-emit for an unknown outcome: resolve / ignore only.
  await expect(unknown.getByRole("button", { name: "Retry" })).toHaveCount(0);
  await expect(rowOf(page, seeded.jobId).getByRole("button", { name: "Retry" })).toBeVisible();

  // Filters are kept in the URL.
  await page.getByLabel("Kind").selectOption("payment_attempt");
  await page.getByLabel("Search").fill(seeded.tag);
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/kind=payment_attempt/);
  expect(new URL(page.url()).searchParams.get("q")).toBe(seeded.tag);
  await expect(page.getByTestId("exception-row")).toHaveCount(1);
  await expect(rowOf(page, seeded.unknownId)).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("Kind")).toHaveValue("payment_attempt");
  await expect(page.getByTestId("exception-row")).toHaveCount(1);
  await shot(page, "1-filtered");

  // Open it: the detail with its (still empty) audit trail.
  await rowOf(page, seeded.unknownId).getByRole("link", { name: "Details" }).click();
  await page.waitForURL(new RegExp(`id=${seeded.unknownId}`));
  const detail = page.getByTestId("exception-detail");
  await expect(detail.getByRole("heading", { level: 3 })).toContainText(seeded.unknownId);
  await expect(detail).toContainText("paybridge-execute-payment-attempt");
  await expect(detail).toContainText("No actions yet.");
  await expect(detail).toContainText("None: re-running cannot change this outcome");

  // Resolve: a note is required.
  await detail.getByRole("button", { name: "Resolve" }).click();
  await detail.getByRole("button", { name: "Resolve with note" }).click();
  await expect(detail.getByRole("alert")).toHaveText("Enter a note: what was done, or why it needs nothing.");
  await detail.getByLabel("Note (required)").fill("Checked the M-Pesa portal: no charge; buyer told to pay again");
  await detail.getByRole("button", { name: "Resolve with note" }).click();
  await expect(page.getByTestId("exception-flash")).toHaveText(`Resolved ${seeded.unknownId}.`);
  await expect(detail.locator("[data-status]")).toHaveText("resolved");
  await expect(detail.getByTestId("resolution")).toContainText("Checked the M-Pesa portal: no charge; buyer told to pay again");
  await expect(detail).toContainText("exception.resolved");
  // The nav badge follows without a reload.
  await expect.poll(openCount).toBeLessThan(openBefore);
  // Gone from "open": the filter now matches nothing, and says so.
  await expect(page.getByTestId("exception-row")).toHaveCount(0);
  await expect(page.getByTestId("exceptions-empty")).toHaveText(`No exceptions match (status open, kind payment attempt, search “${seeded.tag}”).`);
  await shot(page, "2-resolved-detail");

  // Present under "resolved".
  await page.getByLabel("Status").selectOption("resolved");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/status=resolved/);
  await expect(rowOf(page, seeded.unknownId)).toBeVisible();
  await expect(rowOf(page, seeded.unknownId).locator("[data-status]")).toHaveText("resolved");
  await expect(rowOf(page, seeded.unknownId).getByRole("button")).toHaveCount(0);

  // Retry the job: confirm, then the outbox event id is shown.
  await page.goto(`/ops/exceptions?kind=job&q=${seeded.tag}`);
  const job = rowOf(page, seeded.jobId);
  await job.getByRole("button", { name: "Retry" }).click();
  await expect(job).toContainText("Re-emit platform/ping through the outbox?");
  await shot(page, "3-retry-confirm");
  await job.getByRole("button", { name: "Confirm retry" }).click();
  await expect(page.getByTestId("retry-event-id")).toHaveText(`exception-retry:${seeded.jobId}:1`);
  await expect(page.getByTestId("exception-flash")).toContainText(`Retry queued for ${seeded.jobId}: outbox event`);
  await page.getByLabel("Status").selectOption("retrying");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/status=retrying/);
  await expect(rowOf(page, seeded.jobId).locator("[data-status]")).toHaveText("retrying");
  await expect(rowOf(page, seeded.jobId)).toContainText("1× · 1 retried");
  await rowOf(page, seeded.jobId).getByRole("link", { name: "Details" }).click();
  await expect(page.getByTestId("exception-detail")).toContainText("exception.retried");
  await expect(page.getByTestId("exception-detail")).toContainText(`exception-retry:${seeded.jobId}:1`);

  // Every open exception, desktop and phone: on a phone the rows stack and the actions stay on screen.
  await page.goto("/ops/exceptions?status=all");
  await expect(page.getByTestId("exception-row").first()).toBeVisible();
  // Long ids in messages wrap: the table never widens the page past the window.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(page.viewportSize()!.width);
  await shot(page, "4-all-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/ops/exceptions?q=${seeded.tag}&status=all`);
  await expect(badge).toBeAttached(); // the webhook one is still open
  const onScreen = async (row: ReturnType<typeof rowOf>, names: string[]) => {
    for (const name of names) {
      const box = (await row.getByRole("button", { name, exact: true }).boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
  };
  await expect(rowOf(page, seeded.jobId).getByRole("button", { name: "Resolve" })).toBeVisible();
  await onScreen(rowOf(page, seeded.jobId), ["Retry", "Resolve", "Ignore"]);
  await onScreen(rowOf(page, seeded.webhookId), ["Resolve", "Ignore"]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(page, "5-phone");
  await rowOf(page, seeded.webhookId).getByRole("button", { name: "Ignore" }).click();
  await rowOf(page, seeded.webhookId).getByLabel("Note (required)").fill("Endpoint retired by the merchant");
  await onScreen(rowOf(page, seeded.webhookId), ["Ignore with note", "Cancel"]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(page, "5b-phone-ignore-form");

  // The runs page says what it is for and points to the queue.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto("/ops/runs");
  await expect(page.getByTestId("runs-banner")).toContainText("These are the local engine's runs: a debugging aid.");
  await expect(page.getByTestId("replay-unavailable")).toHaveCount(0);
  // The retry went out through the outbox and the engine ran it with the exception's event data.
  const pingRun = page.getByRole("row").filter({ hasText: "platform/ping" }).filter({ hasText: "completed" });
  await expect(async () => {
    await page.reload();
    await expect(pingRun.first()).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await shot(page, "6-runs-banner");
  await pingRun.first().getByRole("link").click();
  await expect(page.locator("pre")).toContainText(`retry ${seeded.tag}`);
  await page.getByTestId("runs-banner").getByRole("link", { name: "exceptions queue" }).click();
  await page.waitForURL("**/ops/exceptions");

  // The ops home page shows the open count and links to the queue.
  await page.goto("/ops");
  const summary = page.getByTestId("open-exceptions");
  // Our job is still retrying: nothing auto-resolves a function's exception.
  await expect(summary).toHaveText(/^Exceptions\d+ open · \d+ retrying$/);
  await summary.click();
  await page.waitForURL("**/ops/exceptions");
});

test("a merchant user has no access to the exceptions queue, page or API", async ({ page }) => {
  await signIn(page, DEMO_ADMIN);
  await page.goto("/ops/exceptions");
  await expect(page.getByRole("heading", { name: /have access to this page/ })).toBeVisible();
  const input = encodeURIComponent(JSON.stringify({ 0: { json: { status: "all" } } }));
  const res = await page.request.get(`/api/trpc/ops.exceptions.list?batch=1&input=${input}`);
  expect(res.status()).toBe(403);
  expect(await res.text()).not.toContain("exc_");
});
