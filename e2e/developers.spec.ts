import { expect, test, type Page } from "@playwright/test";
import { verifyMerchantWebhookSignature } from "../server/webhooks-out/signature";
import { axeViolations, DEMO_ADMIN, DEMO_API_KEY, DEMO_VIEWER, signIn, startHookReceiver } from "./helpers";

// Developers page: the API request log shows a real call with its idempotency key and redacted bodies; an admin
// sends a test event to a real receiver and sees its delivery and attempt; a viewer sees no admin action.

/** The admin's view, with data and a dialog open: what the viewer walk in pages.spec.ts does not reach. */
async function expectNoAxeViolation(page: Page, what: string) {
  expect(await axeViolations(page), what).toEqual([]);
}

test("the API request log shows a call with its idempotency key and redacted bodies", async ({ page, request }) => {
  const idem = `e2e-log-${Date.now()}`;
  const res = await request.post("/api/v1/payments", {
    headers: { authorization: `Bearer ${DEMO_API_KEY}`, "idempotency-key": idem },
    data: {
      buyer_info: { email: `${idem}@example.test` },
      return_url: "https://shop.example/r",
      payment_orders: [{ payment_order_id: idem, seller_account: "books", amount: "12.00", currency: "KES" }],
      metadata: { note: "card 4242 4242 4242 4242", key: DEMO_API_KEY },
    },
  });
  expect(res.status()).toBe(201);
  await signIn(page, DEMO_ADMIN);
  await page.goto("/dashboard/developers");
  await page.getByLabel("Idempotency key").fill(idem);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(new RegExp(`idem=${idem}`));
  const row = page.getByTestId("api-request-row");
  await expect(row).toHaveCount(1, { timeout: 15_000 });
  await expect(row).toHaveAttribute("data-status", "201");
  await row.getByRole("button", { name: /POST \/api\/v1\/payments/ }).click();
  const detail = page.getByTestId("api-request-detail");
  await expect(detail).toContainText(idem);
  const body = (await page.getByTestId("api-request-body").textContent()) ?? "";
  expect(body).toContain(idem);
  expect(body).not.toContain("4242 4242 4242 4242");
  expect(body).not.toContain(DEMO_API_KEY);
  expect(body).not.toContain(`${idem}@example.test`);
  await expectNoAxeViolation(page, "api request dialog");
  await page.keyboard.press("Escape");
  await expect(page).not.toHaveURL(/request=/);
});

test("an admin sends a test event; it arrives signed and its attempt is listed", async ({ page }) => {
  const hooks = await startHookReceiver("/hooks/test-event");
  const { url, received } = hooks;
  try {
    await signIn(page, DEMO_ADMIN);
    await page.goto("/dashboard/developers");
    await page.getByLabel("Endpoint URL").fill(url);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const secret = (await page.getByTestId("new-webhook-secret").textContent())!.trim();
    await page.getByRole("button", { name: `Send test event to ${url}` }).click();
    await expect(page.getByTestId("test-event-notice")).toBeVisible();
    await expect.poll(() => received.length, { timeout: 30_000 }).toBeGreaterThan(0);
    expect(verifyMerchantWebhookSignature(received[0]!.body, received[0]!.signature, secret)).toBe(true);
    const event = JSON.parse(received[0]!.body) as { id: string; type: string };
    expect(event.type).toBe("webhook_endpoint.test");

    await page.getByLabel("Event type").selectOption("webhook_endpoint.test");
    const row = page.locator(`[data-testid=event-row][data-event-type="webhook_endpoint.test"]`).filter({ hasText: event.id });
    await expect(row).toHaveCount(1, { timeout: 15_000 });
    await row.getByRole("button").click();
    const detail = page.getByTestId("event-detail");
    await expect(detail).toContainText(event.id);
    await expect(detail.getByTestId("event-delivery").filter({ hasText: url }).getByTestId("delivery-attempt")).toHaveCount(1, { timeout: 15_000 });
    await expectNoAxeViolation(page, "event dialog");
    await page.keyboard.press("Escape");
    await expectNoAxeViolation(page, "developers page as admin");
  } finally {
    await hooks.close();
  }
});

test("a viewer sees keys, endpoints, events and the log, but no admin action", async ({ page }) => {
  await signIn(page, DEMO_VIEWER);
  await page.goto("/dashboard/developers");
  await expect(page.getByRole("heading", { name: "API requests" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Test mode keys" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Live mode keys" })).toBeVisible();
  for (const name of ["Create key", "Add endpoint", /^Revoke/, /^Send test event/, /^Disable/]) {
    await expect(page.getByRole("button", { name })).toHaveCount(0);
  }
});
