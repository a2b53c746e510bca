import { describe, expect, it } from "vitest";
import { FaultRules, parseFault, parseFaults, seededRandom } from "./faults";

describe("fault syntax", () => {
  it("parses request and webhook faults", () => {
    expect(parseFaults("latency=200;jitter=50,status=503;retry=false,webhook_duplicate")).toEqual({
      request: [{ kind: "latency", ms: 200, jitterMs: 50 }, { kind: "status", status: 503, shouldRetry: false }],
      webhook: [{ kind: "webhook_duplicate" }],
    });
    expect(parseFault("hang=after_commit")).toEqual({ kind: "hang", afterCommit: true });
    expect(parseFault("rate_limit")).toEqual({ kind: "rate_limit", retryAfterS: 1 });
  });
  it("parses the Daraja reversal knobs, and refuses unknown ones", () => {
    expect(parseFault("mpesa_reversal=fail")).toEqual({ kind: "mpesa_reversal", mode: "fail" });
    expect(parseFault("mpesa_reversal=fail;code=11")).toEqual({ kind: "mpesa_reversal", mode: "fail", code: "11" });
    expect(parseFaults("mpesa_reversal=no_result").request).toEqual([{ kind: "mpesa_reversal", mode: "no_result" }]);
    expect(() => parseFault("mpesa_reversal=sometimes")).toThrow();
    expect(() => parseFault("mpesa_reversal=fail;code=999")).toThrow();
    for (const mode of ["no_result", "no_result_not_done", "queue_timeout", "insufficient"] as const) expect(parseFaults(`mpesa_b2c=${mode}`).request).toEqual([{ kind: "mpesa_b2c", mode }]);
    expect(() => parseFault("mpesa_b2c=lost")).toThrow();
  });
  it("refuses unknown faults and statuses", () => {
    expect(() => parseFault("explode")).toThrow(/unknown sandbox fault/);
    expect(() => parseFault("status=418")).toThrow();
  });
});

describe("global rules", () => {
  it("match by method and path prefix, and spend their count", () => {
    const rules = new FaultRules(seededRandom(1));
    rules.add({ fault: "status=500", method: "POST", pathPrefix: "/v1/refunds", count: 2 });
    expect(rules.take("GET", "/v1/refunds").request).toEqual([]);
    expect(rules.take("POST", "/v1/refunds").request).toHaveLength(1);
    expect(rules.take("POST", "/v1/refunds/re_1").request).toHaveLength(1);
    expect(rules.take("POST", "/v1/refunds").request).toEqual([]);
    expect(rules.list()).toEqual([]);
  });
  it("fire by probability, reproducibly for a seed", () => {
    const run = () => {
      const rules = new FaultRules(seededRandom(7));
      rules.add({ fault: "reset", probability: 0.3 });
      return Array.from({ length: 50 }, () => rules.take("POST", "/x").request.length);
    };
    const a = run();
    expect(a).toEqual(run());
    const fired = a.filter(Boolean).length;
    expect(fired).toBeGreaterThan(5);
    expect(fired).toBeLessThan(30);
  });
});
