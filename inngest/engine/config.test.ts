import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { celKey, celMatches } from "./cel";
import { validateFunctionConfig } from "./config";
import { idsFromSeed } from "./ids";
import { canonicalJson, parseRetryAfter } from "./protocol";
import { exponentialBackoff, inngestBackoff, parseDurationMs, resolveWakeAt } from "./time";

const base = {
  id: "app-fn",
  name: "fn",
  triggers: [{ event: "a/b" }],
  steps: { step: { id: "step", name: "step", runtime: { type: "http", url: "http://app.test/api/inngest?fnId=app-fn&stepId=step" } } },
};

describe("function config validation", () => {
  it("accepts the supported subset and defaults retries to Inngest's 4 (5 attempts)", () => {
    const r = validateFunctionConfig({ ...base, idempotency: "event.data.id", concurrency: [{ limit: 2, key: "event.data.k" }], singleton: { mode: "skip" }, cancel: [{ event: "a/c", timeout: "1h" }] });
    expect(r).toMatchObject({ ok: true, fn: { id: "app-fn", maxAttempts: 5, concurrency: { limit: 2, key: "event.data.k" } } });
  });

  it("reads retries from the step runtime", () => {
    const r = validateFunctionConfig({ ...base, steps: { step: { ...base.steps.step, retries: { attempts: 0 } } } });
    expect(r).toMatchObject({ ok: true, fn: { maxAttempts: 1 } });
  });

  it.each([
    ["rateLimit", { limit: 1, period: "1m" }, "rate limiting"],
    ["throttle", { limit: 1, period: "1m" }, "throttling"],
    ["debounce", { period: "5s" }, "debounce"],
    ["batchEvents", { maxSize: 5, timeout: "1s" }, "event batching"],
    ["priority", { run: "1" }, "priority"],
    ["timeouts", { finish: "1m" }, "start/finish timeouts"],
  ])("refuses %s with a message naming it", (key, value, words) => {
    const r = validateFunctionConfig({ ...base, [key]: value });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems[0]).toContain(`${words} (${key}) is not supported by the local Inngest engine`);
  });

  it("refuses account-scoped concurrency, two limits, cron jitter, bad CEL and bad cron", () => {
    const r = validateFunctionConfig({
      ...base,
      concurrency: { limit: 1, scope: "account" },
      triggers: [{ cron: "not a cron" }, { cron: "* * * * *", jitter: "10s" }, { event: "x", expression: "event.data.(" }],
    });
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems.join("\n")).toMatch(/concurrency scope "account"/);
    expect(problems.join("\n")).toMatch(/invalid cron/);
    expect(problems.join("\n")).toMatch(/cron jitter/);
    expect(problems.join("\n")).toMatch(/invalid expression/);
  });
});

describe("engine helpers", () => {
  it("parses SDK time strings and ISO dates", () => {
    expect(parseDurationMs("2h30m10s")).toBe(9_010_000);
    expect(parseDurationMs("1w")).toBe(604_800_000);
    expect(parseDurationMs("soon")).toBeUndefined();
    expect(resolveWakeAt("2030-01-01T00:00:00.000Z", 0)).toBe(Date.parse("2030-01-01T00:00:00.000Z"));
    expect(resolveWakeAt("1s", 1000)).toBe(2000);
  });

  it("backs off along Inngest's table (15 s … 2 h) with 0–30 s of jitter", () => {
    const table = [15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_200_000, 2_400_000, 3_600_000, 7_200_000];
    for (let attempt = 1; attempt < 20; attempt++) {
      const d = inngestBackoff(attempt);
      const base = table[Math.min(attempt - 1, table.length - 1)]!;
      expect(d).toBeGreaterThanOrEqual(base);
      expect(d).toBeLessThan(base + 30_000);
    }
    expect(exponentialBackoff(10, 100)(10)).toBeLessThanOrEqual(125);
  });

  it("reads Retry-After as seconds or a date", () => {
    expect(parseRetryAfter("30", 0)).toBe(30_000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });

  it("derives the same distinct ids from the same seed", () => {
    const seed = `1700000000000,${Buffer.alloc(10, 1).toString("base64")}`;
    const a = idsFromSeed(seed, 3);
    expect(a).toEqual(idsFromSeed(seed, 3));
    expect(new Set(a).size).toBe(3);
    expect(idsFromSeed("garbage", 1)).toBeUndefined();
  });

  it("evaluates CEL matches and keys; errors are no match", () => {
    const event = { name: "a", data: { k: "x", n: 2, nested: { id: "u1" } } };
    expect(celMatches("event.data.n == 2", { event })).toBe(true);
    expect(celMatches("event.data.missing == 'x'", { event })).toBe(false);
    expect(celMatches("event.data.k == async.data.k", { event, async: { data: { k: "x" } } })).toBe(true);
    expect(celKey("event.data.nested.id", { event })).toBe("u1");
    expect(celKey("event.data.nested", { event })).toBeUndefined();
  });

  it("canonical JSON is key-order independent and round-trips", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = canonicalJson(v);
        expect(JSON.parse(c)).toEqual(JSON.parse(JSON.stringify(v)));
        expect(canonicalJson(JSON.parse(c))).toBe(c);
      }),
    );
  });
});
