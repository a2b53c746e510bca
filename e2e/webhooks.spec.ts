import { expect, test } from "@playwright/test";
import { verifyMerchantWebhookSignature } from "../server/webhooks-out/signature";
import { DEMO_ADMIN, signIn, startHookReceiver } from "./helpers";

// A merchant registers a webhook endpoint in the dashboard and receives a signed payment_order.succeeded
// event when a buyer pays. The receiver is a real HTTP server in this test process.

const API_KEY = "sk_test_DemoDemoDemoDemoDemoDemoDemoDemo";

test("a merchant's endpoint receives a signed payment_order.succeeded webhook", async ({ page, request }) => {
  const hooks = await startHookReceiver("/hooks/paybridge");
  const { url, received } = hooks;
  try {
    await signIn(page, DEMO_ADMIN);
    await page.goto("/dashboard/developers");
    await page.getByLabel("Endpoint URL").fill(url);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const secret = (await page.getByTestId("new-webhook-secret").textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);

    const id = `wh_${Date.now()}`;
    const created = await request.post("/api/v1/payments", {
      headers: { authorization: `Bearer ${API_KEY}`, "idempotency-key": id },
      data: { buyer_info: { email: `${id}@example.test` }, return_url: "https://shop.example/r", payment_orders: [{ payment_order_id: id, seller_account: "books", amount: "77.00", currency: "KES" }] },
    });
    await page.route("https://shop.example/**", (route) => route.fulfill({ status: 200, body: "shop" }));
    await page.goto((await created.json()).checkout_url);
    const field = page.frameLocator('iframe[title="Secure card payment input frame"]');
    await field.getByTestId("card-number").fill("4242424242424242");
    await field.getByTestId("card-expiry").fill("12 / 34");
    await field.getByTestId("card-cvc").fill("123");
    await page.getByRole("button", { name: /^Pay KES\s77\.00$/ }).click();
    await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });

    await expect.poll(() => received.filter((r) => r.body.includes(id)).length, { timeout: 30_000 }).toBeGreaterThan(0);
    const hook = received.find((r) => r.body.includes(id))!;
    expect(verifyMerchantWebhookSignature(hook.body, hook.signature, secret)).toBe(true);
    expect(verifyMerchantWebhookSignature(hook.body.replace("77.00", "1.00"), hook.signature, secret)).toBe(false);
    const event = JSON.parse(hook.body);
    expect(event).toMatchObject({ type: "payment_order.succeeded", data: { object: { payment_order_id: id, status: "SUCCESS", amount: "77.00" } } });
  } finally {
    await hooks.close();
  }
});
