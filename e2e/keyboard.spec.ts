import { expect, test, type Page } from "@playwright/test";
import { createDemoCheckout, DEMO_ADMIN, DEMO_OPS, DEMO_PASSWORD } from "./helpers";

// The dashboard and the ops console with the keyboard alone (no mouse, no clicks): the skip link, the nav
// marking the current page, Tab through the payments filters to a payment's detail link, Enter to open it.
// Every stop of the Tab walk must show where the focus is (an outline or a ring). The checkout's keyboard-only
// payment is in checkout.spec.ts.

interface Focused {
  tag: string;
  name: string;
  href: string | null;
  id: string;
  /** An outline or a box-shadow ring is drawn around the focused element. */
  visibleFocus: boolean;
  inViewport: boolean;
}

async function focused(page: Page): Promise<Focused> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { tag: "body", name: "", href: null, id: "", visibleFocus: false, inViewport: false };
    const labelledBy = el.getAttribute("aria-labelledby");
    const labels = (el as HTMLInputElement).labels;
    const name = (
      el.getAttribute("aria-label") ??
      (labelledBy ? labelledBy.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? "").join(" ") : null) ??
      (labels && labels.length ? (labels[0]!.textContent ?? "") : null) ??
      (el.textContent?.trim() || el.getAttribute("placeholder") || el.getAttribute("title") || "")
    )
      .replace(/\s+/g, " ")
      .trim();
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    const ring = style.boxShadow !== "none" && style.boxShadow !== "";
    // A native date/time field takes several Tab stops inside the browser's own shadow tree (each segment, then the
    // picker button); the browser highlights the segment and rings the button there, out of getComputedStyle's reach.
    const nativePicker = el.tagName === "INPUT" && ["date", "time", "datetime-local", "month", "week"].includes((el as HTMLInputElement).type);
    const r = el.getBoundingClientRect();
    return {
      tag: el.tagName.toLowerCase(),
      name,
      href: el.getAttribute("href"),
      id: el.id,
      visibleFocus: outline || ring || nativePicker,
      inViewport: r.width > 1 && r.height > 1 && r.bottom > 0 && r.right > 0 && r.top < window.innerHeight && r.left < window.innerWidth,
    };
  });
}

const describe = (f: Focused) => `${f.tag}${f.id ? `#${f.id}` : ""} "${f.name.slice(0, 60)}"${f.href ? ` → ${f.href}` : ""}`;

/** Focus stops that draw no focus indicator, over the whole test. */
let invisibleFocus: string[] = [];
test.beforeEach(() => {
  invisibleFocus = [];
});
test.afterEach(() => {
  expect([...new Set(invisibleFocus)], "focused elements without a visible focus indicator").toEqual([]);
});

/** Presses Tab (Shift+Tab backwards) until the focused element matches; returns the stops on the way. */
async function tabUntil(page: Page, what: string, match: (f: Focused) => boolean, opts: { backwards?: boolean; max?: number } = {}): Promise<Focused[]> {
  const trail: Focused[] = [];
  for (let i = 0; i < (opts.max ?? 80); i++) {
    await page.keyboard.press(opts.backwards ? "Shift+Tab" : "Tab");
    const f = await focused(page);
    trail.push(f);
    if (f.tag !== "body" && f.tag !== "main" && !f.visibleFocus) invisibleFocus.push(`${new URL(page.url()).pathname}: ${describe(f)}`);
    if (match(f)) return trail;
  }
  throw new Error(`Tab never reached ${what} in ${trail.length} presses on ${new URL(page.url()).pathname}; the first stops: ${trail.slice(0, 30).map(describe).join(" | ")}`);
}

async function keyboardSignIn(page: Page, email: string, path: string) {
  await page.goto(path);
  await tabUntil(page, "the Email field", (f) => f.tag === "input" && f.name === "Email");
  await page.keyboard.type(email);
  await tabUntil(page, "the Password field", (f) => f.tag === "input" && f.name === "Password");
  await page.keyboard.type(DEMO_PASSWORD);
  await page.keyboard.press("Enter");
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
}

/** The skip link is the first stop, shows itself when focused, and Enter moves the focus to the page's content. */
async function useSkipLink(page: Page) {
  await page.keyboard.press("Tab");
  const skip = await focused(page);
  expect(skip.name, "first Tab stop").toBe("Skip to content");
  expect(skip.inViewport, "the skip link is shown when focused").toBe(true);
  expect(skip.visibleFocus, "the skip link shows focus").toBe(true);
  await page.keyboard.press("Enter");
  await expect.poll(async () => (await focused(page)).id).toBe("main");
}

const navLink = (page: Page, name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });

test("a merchant admin signs in, skips to content, moves through the nav and opens a payment with the keyboard alone", async ({ page, request }) => {
  const c = await createDemoCheckout(request, [{ seller: "books", amount: "321.00" }], "kbd");
  const orderId = c.orderIds[0]!;
  await keyboardSignIn(page, DEMO_ADMIN, "/signin");
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(navLink(page, "Overview")).toHaveAttribute("aria-current", "page");

  await useSkipLink(page);
  // Back from the content into the nav (Sign out, then the links from the last), Enter on Payments.
  await tabUntil(page, "the Payments nav link", (f) => f.tag === "a" && f.name === "Payments" && f.href === "/dashboard/payments", { backwards: true });
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/dashboard\/payments$/);
  await expect(navLink(page, "Payments")).toHaveAttribute("aria-current", "page");
  await expect(navLink(page, "Overview")).not.toHaveAttribute("aria-current", "page");

  // Forward into the filters: the search field first, the payment's id typed there, Enter applies it.
  await tabUntil(page, "the payments search field", (f) => f.tag === "input" && /search/i.test(f.name));
  await page.keyboard.type(orderId);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`[?&]q=${orderId}`));
  const detailHref = `/dashboard/payments/${encodeURIComponent(orderId)}`;
  await expect(page.locator(`main a[href="${detailHref}"]`).first()).toBeVisible();
  // On through the other filters to the payment's detail link.
  const toLink = await tabUntil(page, `the detail link of ${orderId}`, (f) => f.tag === "a" && f.href === detailHref, { max: 80 });
  const controls = toLink.filter((f) => ["input", "select", "button", "textarea"].includes(f.tag));
  expect(controls.length, `filters passed on the way: ${toLink.map(describe).join(" | ")}`).toBeGreaterThanOrEqual(2);
  await page.keyboard.press("Enter");
  await page.waitForURL((url) => url.pathname === detailHref);
  await expect(page.getByRole("main")).toContainText(orderId);
  // A payment's page belongs to Payments in the nav.
  await expect(navLink(page, "Payments")).toHaveAttribute("aria-current", "page");
});

test("ops moves through the console and drills into a merchant with the keyboard alone", async ({ page }) => {
  await keyboardSignIn(page, DEMO_OPS, "/signin?callbackUrl=/ops");
  await expect(page).toHaveURL(/\/ops$/);
  await expect(navLink(page, "Merchants")).toHaveAttribute("aria-current", "page");

  await useSkipLink(page);
  await tabUntil(page, "the Runs nav link", (f) => f.tag === "a" && f.href === "/ops/runs", { backwards: true });
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/ops\/runs$/);
  await expect(navLink(page, "Runs & dead letters")).toHaveAttribute("aria-current", "page");
  await expect(navLink(page, "Merchants")).not.toHaveAttribute("aria-current", "page");

  // Back to Merchants (it comes before Runs in the nav), then on into the list to the demo merchant's page.
  await tabUntil(page, "the Merchants nav link", (f) => f.tag === "a" && f.href === "/ops", { backwards: true });
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/ops$/);
  await tabUntil(page, "the demo merchant's detail link", (f) => f.tag === "a" && f.href === "/ops/merchants/mer_demo", { max: 80 });
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/ops\/merchants\/mer_demo$/);
  await expect(page.getByRole("main")).toContainText("Demo Merchant");
  await expect(navLink(page, "Merchants")).toHaveAttribute("aria-current", "page");
});
