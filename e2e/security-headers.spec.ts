import { expect, test, type APIRequestContext, type Page, type Response } from "@playwright/test";
import { DEMO_ADMIN, DEMO_PASSWORD } from "./helpers";

// The security headers on the built app (next start), and the hosted checkout still working under its
// Content-Security-Policy: the sandbox's card field (a frame on the sandbox's origin), its stand-in for
// Stripe.js, the 3-D Secure challenge frame and Next's own scripts, with no CSP violation anywhere.

const API_KEY = "sk_test_DemoDemoDemoDemoDemoDemoDemoDemo"; // seeded demo key (scripts/seed-demo.ts)
const SHOP = "https://shop.example";

async function createCheckout(request: APIRequestContext, amount: string) {
  const id = `e2e_csp_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const res = await request.post("/api/v1/payments", {
    headers: { authorization: `Bearer ${API_KEY}`, "idempotency-key": id },
    data: {
      buyer_info: { email: `${id}@example.test`, country: "KE" },
      return_url: `${SHOP}/thanks`,
      payment_orders: [{ payment_order_id: id, seller_account: "books", amount, currency: "KES" }],
    },
  });
  expect(res.status()).toBe(201);
  return (await res.json()) as { checkout_url: string; checkout_id: string };
}

/** Every CSP violation the page or its frames report, from the console and from securitypolicyviolation events. */
async function watchCsp(page: Page): Promise<string[]> {
  const seen: string[] = [];
  page.on("console", (m) => {
    if (/content security policy|refused to (load|execute|frame|connect|apply)/i.test(m.text())) seen.push(`console: ${m.text()}`);
  });
  await page.exposeFunction("__reportCspViolation", (v: string) => seen.push(`event: ${v}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __reportCspViolation: (v: string) => void }).__reportCspViolation(`${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return seen;
}

function expectPageHeaders(res: Response | null) {
  expect(res, "a document response").not.toBeNull();
  const h = res!.headers();
  const csp = h["content-security-policy"] ?? "";
  expect(csp).toMatch(/script-src [^;]*'nonce-[A-Za-z0-9+/=]+'/);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toMatch(/script-src [^;]*'unsafe-inline'/);
  expect(h["x-frame-options"]).toBe("DENY");
  expect(h["x-content-type-options"]).toBe("nosniff");
  expect(h["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  // The e2e server is a production build (NODE_ENV=production).
  expect(h["strict-transport-security"]).toMatch(/max-age=(\d+); includeSubDomains/);
  expect(Number(/max-age=(\d+)/.exec(h["strict-transport-security"]!)![1])).toBeGreaterThanOrEqual(31_536_000);
  return csp;
}

test.beforeEach(async ({ page }) => {
  await page.route(`${SHOP}/**`, (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<h1>Back at the shop</h1>" }));
});

test("the checkout pays by card (3-D Secure included) under its CSP, with no violation", async ({ page, request }) => {
  const violations = await watchCsp(page);
  const c = await createCheckout(request, "420.00");
  const csp = expectPageHeaders(await page.goto(c.checkout_url));
  // The nonce is fresh per request.
  const again = (await request.get(c.checkout_url)).headers()["content-security-policy"];
  expect(again).not.toBe(csp);

  const field = page.frameLocator('iframe[title="Secure card payment input frame"]');
  await field.getByTestId("card-number").fill("4000002760003184"); // 3-D Secure required, then succeeds
  await field.getByTestId("card-expiry").fill("12 / 34");
  await field.getByTestId("card-cvc").fill("123");
  await page.getByRole("button", { name: /^Pay KES\s420\.00$/ }).click();
  await page.frameLocator('iframe[title="3D Secure challenge"]').getByTestId("3ds-complete").click();
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible({ timeout: 30_000 });
  expect(violations).toEqual([]);
});

test("sign-in, dashboard and API responses carry the headers; sign-in works with no violation", async ({ page, request }) => {
  const violations = await watchCsp(page);
  expectPageHeaders(await page.goto("/signin"));
  await page.getByLabel("Email").fill(DEMO_ADMIN);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/dashboard$/);
  expectPageHeaders(await page.reload());
  await expect(page.getByRole("heading", { level: 1, name: "Demo Merchant" })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await expect(page.getByLabel("Business name")).toBeEnabled();
  expect(violations).toEqual([]);

  for (const res of [await request.get("/api/health"), await request.get("/api/v1/payments/none"), await request.get("/api/v1/nope")]) {
    const h = res.headers();
    expect(h["content-security-policy"], res.url()).toContain("default-src 'none'");
    expect(h["content-security-policy"], res.url()).toContain("frame-ancestors 'none'");
    expect(h["x-frame-options"], res.url()).toBe("DENY");
    expect(h["x-content-type-options"], res.url()).toBe("nosniff");
  }
});

test("another site cannot frame the checkout or the sign-in page", async ({ page, request }) => {
  const c = await createCheckout(request, "10.00");
  // A page on another origin (served by the test) that frames ours.
  await page.route("http://evil.example/", (route) =>
    route.fulfill({ status: 200, contentType: "text/html", body: `<iframe id="a" src="${c.checkout_url}"></iframe><iframe id="b" src="${new URL("/signin", c.checkout_url)}"></iframe>` }),
  );
  await page.goto("http://evil.example/");
  for (const id of ["a", "b"]) {
    const frame = (await (await page.locator(`#${id}`).elementHandle())!.contentFrame())!;
    // A refused frame is Chrome's error page, never our document.
    await expect.poll(() => frame.url(), { timeout: 15_000 }).toBe("chrome-error://chromewebdata/");
    expect(await frame.content()).not.toMatch(/PayBridge|Sign in to/);
  }
});
