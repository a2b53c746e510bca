// The stripe.js stand-in run in a minimal fake DOM (no browser available here): it mounts the card field
// iframe on the sandbox origin, and confirmPayment resolves from the iframe's postMessage answer.
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { stripeJs } from "./card-field";

const SANDBOX = "http://127.0.0.1:12111";
const APP = "http://localhost:3000";

function fakeBrowser() {
  const listeners: ((ev: { origin: string; data: unknown }) => void)[] = [];
  const posted: { msg: Record<string, unknown>; target: string }[] = [];
  const frames: Record<string, unknown>[] = [];
  const assigned: string[] = [];
  const makeFrame = () => {
    const f: Record<string, unknown> = { style: {}, setAttribute() {}, contentWindow: { postMessage: (msg: Record<string, unknown>, target: string) => posted.push({ msg, target }) } };
    frames.push(f);
    return f;
  };
  const node = { appendChild: (c: Record<string, unknown>) => (c.parentNode = node), removeChild() {} };
  const window: Record<string, unknown> = {
    addEventListener: (type: string, fn: (ev: { origin: string; data: unknown }) => void) => type === "message" && listeners.push(fn),
    removeEventListener() {},
  };
  const context = vm.createContext({
    window,
    document: { createElement: (tag: string) => (tag === "iframe" ? makeFrame() : { style: {}, appendChild() {} }), querySelector: () => node, body: node },
    location: { origin: APP, href: `${APP}/pay/co_1`, assign: (u: string) => assigned.push(u) },
    URL,
    Promise,
    fetch: () => Promise.reject(new Error("no network in this test")),
    setTimeout,
  });
  vm.runInContext(stripeJs(SANDBOX), context);
  const deliver = (origin: string, data: unknown) => listeners.forEach((fn) => fn({ origin, data }));
  return { window, frames, posted, deliver, assigned };
}

describe("stripe.js stand-in", () => {
  it("exposes what react-stripe-js checks for", () => {
    const b = fakeBrowser();
    const Stripe = b.window.Stripe as (pk: string) => Record<string, unknown>;
    const s = Stripe("pk_test_x");
    for (const fn of ["elements", "createToken", "createPaymentMethod", "confirmCardPayment", "confirmPayment", "retrievePaymentIntent", "handleNextAction"]) expect(typeof s[fn]).toBe("function");
  });

  it("mounts the field from the sandbox origin and resolves confirmPayment from the iframe's answer only", async () => {
    const b = fakeBrowser();
    const s = (b.window.Stripe as (pk: string) => { elements: (o: unknown) => { create: (t: string) => { mount: (n: string) => void } }; confirmPayment: (a: unknown) => Promise<unknown> })("pk_test_x");
    const elements = s.elements({ clientSecret: "pi_1_secret_abc" });
    elements.create("payment").mount("#card");
    expect(String(b.frames[0]!.src)).toBe(`${SANDBOX}/elements/card?pk=pk_test_x&origin=${encodeURIComponent(APP)}&eid=${String(b.frames[0]!.src).split("eid=")[1]}`);
    const result = s.confirmPayment({ elements, confirmParams: { return_url: `${APP}/pay/done` }, redirect: "if_required" });
    const [sent] = b.posted;
    expect(sent).toMatchObject({ target: SANDBOX, msg: { type: "sandbox:confirm", clientSecret: "pi_1_secret_abc", returnUrl: `${APP}/pay/done` } });
    // A message from another origin is ignored; the sandbox's answer resolves the promise.
    b.deliver("http://evil.example", { type: "sandbox:result", requestId: sent!.msg.requestId, paymentIntent: { id: "pi_evil", status: "succeeded" } });
    b.deliver(SANDBOX, { type: "sandbox:result", requestId: sent!.msg.requestId, paymentIntent: { id: "pi_1", status: "succeeded" } });
    await expect(result).resolves.toEqual({ paymentIntent: { id: "pi_1", status: "succeeded" } });
  });

  it("confirmPayment with redirect 'always' goes to return_url with Stripe's query parameters", async () => {
    const b = fakeBrowser();
    const s = (b.window.Stripe as (pk: string) => { elements: (o: unknown) => { create: (t: string) => { mount: (n: string) => void } }; confirmPayment: (a: unknown) => Promise<unknown> })("pk_test_x");
    const elements = s.elements({ clientSecret: "pi_2_secret_z" });
    elements.create("card").mount("#card");
    void s.confirmPayment({ elements, confirmParams: { return_url: `${APP}/pay/done` } });
    b.deliver(SANDBOX, { type: "sandbox:result", requestId: b.posted[0]!.msg.requestId, paymentIntent: { id: "pi_2", status: "succeeded" } });
    await new Promise((r) => setTimeout(r, 0));
    expect(b.assigned).toEqual([`${APP}/pay/done?payment_intent=pi_2&payment_intent_client_secret=pi_2_secret_z&redirect_status=succeeded`]);
  });
});
