import { describe, expect, it } from "vitest";
import { isConnectionRefused, recordedCall, type AttemptRecord } from "./attempts";
import { PspError } from "./errors";

// A refused connection never reached the PSP: it is tried again in the call (a restarting endpoint), each try its
// own psp_attempts row. Anything else (a timeout, a reset, a PSP answer) is not: the request may have arrived.

const meta = { psp: "stripe" as const, operation: "test.op", request: {} };
const facts = () => ({ outcome: "network_error" as const, errorCode: "x" });
const refused = () => Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }) });

describe("recordedCall", () => {
  it("tries a refused connection again, recording every try, and returns the first answer", async () => {
    const rows: AttemptRecord[] = [];
    let calls = 0;
    const result = await recordedCall(async (r) => void rows.push(r), meta, async () => {
      calls++;
      if (calls < 3) throw new PspError("mpesa", "network", "network error", { cause: refused() });
      return "ok";
    }, () => ({ outcome: "ok" }), facts, [1, 1, 1]);
    expect(result).toBe("ok");
    expect(calls).toBe(3);
    expect(rows.map((r) => r.outcome)).toEqual(["network_error", "network_error", "ok"]);
  });

  it("gives up after its delays, and never retries what may have reached the PSP", async () => {
    let calls = 0;
    await expect(recordedCall(async () => {}, meta, async () => { calls++; throw refused(); }, () => ({ outcome: "ok" }), facts, [1, 1])).rejects.toThrow("fetch failed");
    expect(calls).toBe(3);
    calls = 0;
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    await expect(recordedCall(async () => {}, meta, async () => { calls++; throw reset; }, () => ({ outcome: "ok" }), facts, [1, 1])).rejects.toThrow("socket hang up");
    expect(calls).toBe(1);
  });

  it("finds ECONNREFUSED through Stripe's and fetch's wrappers only", () => {
    expect(isConnectionRefused({ type: "StripeConnectionError", detail: { code: "ECONNREFUSED" } })).toBe(true);
    expect(isConnectionRefused(Object.assign(new AggregateError([Object.assign(new Error("a"), { code: "ECONNREFUSED" })]), {}))).toBe(true);
    expect(isConnectionRefused(new PspError("stripe", "timeout", "timed out"))).toBe(false);
    expect(isConnectionRefused({ detail: { code: "ETIMEDOUT" } })).toBe(false);
    expect(isConnectionRefused(null)).toBe(false);
  });
});
