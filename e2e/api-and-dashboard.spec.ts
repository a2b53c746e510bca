import { expect, test } from "@playwright/test";
import { DEMO_ADMIN, signIn } from "./helpers";

test("an admin creates an API key, the merchant's server creates a payment with it, the dashboard lists it", async ({ page, request }) => {
  await signIn(page, DEMO_ADMIN);
  await page.getByRole("link", { name: "Developers" }).click();
  await page.getByLabel("Key name").fill("e2e backend");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-api-key").textContent())!.trim();
  expect(key).toMatch(/^sk_test_/);

  const orderId = `e2e_${Date.now()}`;
  const body = {
    buyer_info: { email: "buyer@example.test", country: "KE" },
    return_url: "https://shop.example/thanks",
    payment_orders: [
      { payment_order_id: `${orderId}_a`, seller_account: "books", amount: "1500.00", currency: "KES" },
      { payment_order_id: `${orderId}_b`, seller_account: "crafts", amount: "250.50", currency: "KES" },
    ],
  };
  const headers = { authorization: `Bearer ${key}`, "idempotency-key": orderId };
  const created = await request.post("/api/v1/payments", { data: body, headers });
  expect(created.status()).toBe(201);
  const checkout = await created.json();
  expect(checkout.total_amount).toBe("1750.50");
  expect(checkout.checkout_url).toContain(`/pay/${checkout.checkout_id}`);

  const replay = await request.post("/api/v1/payments", { data: body, headers });
  expect(replay.headers()["idempotent-replayed"]).toBe("true");
  expect((await replay.json()).checkout_id).toBe(checkout.checkout_id);

  const status = await request.get(`/api/v1/payments/${orderId}_a`, { headers: { authorization: `Bearer ${key}` } });
  expect(status.status()).toBe(200);
  expect(await status.json()).toMatchObject({ status: "NOT_STARTED", amount: "1500.00" });

  const unauthorized = await request.get(`/api/v1/payments/${orderId}_a`);
  expect(unauthorized.status()).toBe(401);

  await page.getByRole("link", { name: "Payments" }).click();
  const row = page.getByTestId("payment-row").filter({ hasText: `${orderId}_b` });
  await expect(row).toContainText("KES 250.50");
  await expect(row).toHaveAttribute("data-status", "NOT_STARTED");

  const spec = await request.get("/api/v1/openapi.json");
  expect((await spec.json()).paths).toHaveProperty("/api/v1/payments");
});
