import { describe, expect, it } from "vitest";
import { API_LOG_BODY_MAX_CHARS, API_LOG_STRING_MAX, luhnValid, redactBody, redactSecrets, redactText, REDACTED } from "./redact";

describe("redactBody", () => {
  it("removes credentials by key and by shape, wherever they sit", () => {
    const key = `sk_test_${"a".repeat(32)}`;
    const out = JSON.stringify(
      redactBody({
        authorization: "Bearer x",
        client_secret: "pi_123_secret_abc",
        nested: { note: `use ${key} or pk_live_${"b".repeat(32)}`, hook: "whsec_abcDEF-123", pi: "pi_3Abc_secret_XyZ" },
        password: "hunter2",
      }),
    );
    for (const s of ["Bearer x", "pi_123_secret_abc", key, "pk_live_", "whsec_abc", "_secret_XyZ", "hunter2"]) expect(out).not.toContain(s);
    expect(out).toContain(REDACTED);
  });

  it("removes Luhn-valid card-like numbers in any spelling, keeps other digit runs", () => {
    const out = JSON.stringify(redactBody({ a: "4242 4242 4242 4242", b: "4000-0566-5566-5556", c: 4242424242424242, card: { number: "1" }, amount: "1250.00", ref: "1234567890123" }));
    expect(out).not.toMatch(/4242.?4242/);
    expect(out).not.toContain("5566");
    expect(out).toContain("1250.00");
    expect(out).toContain("1234567890123"); // not Luhn-valid: kept
    expect(luhnValid("4242424242424242")).toBe(true);
    expect(luhnValid("4242424242424241")).toBe(false);
  });

  it("masks buyers' email, phone, name and IP, keeps ids verbatim", () => {
    const out = redactBody({
      buyer_info: { email: "jane.doe@example.test", phone: "+254712345678", name: "Jane Doe", ip: "203.0.113.7", country: "KE" },
      note: "call 0712345678 or mail jane.doe@example.test",
      payment_order_id: "4242424242424242",
    }) as Record<string, Record<string, string> | string>;
    const text = JSON.stringify(out);
    for (const s of ["jane.doe@", "712345678", "Jane Doe", "203.0.113.7"]) expect(text).not.toContain(s);
    expect(out.buyer_info).toMatchObject({ email: "j***@example.test", name: "J*** D***", ip: "203.***", country: "KE" });
    expect(out.payment_order_id).toBe("4242424242424242");
  });

  it("is bounded and storable: huge, deep and NUL-bearing bodies", () => {
    const big = redactBody({ items: Array.from({ length: 5000 }, (_, i) => ({ i, s: "x".repeat(100) })) });
    expect(JSON.stringify(big).length).toBeLessThanOrEqual(API_LOG_BODY_MAX_CHARS + 100);
    let deep: unknown = "bottom";
    for (let i = 0; i < 100; i++) deep = { d: deep };
    expect(JSON.stringify(redactBody(deep))).toContain("[too deep]");
    expect(JSON.stringify(redactBody({ "k\u0000": "a\u0000b\ud800" }))).not.toMatch(/\\u0000|\\ud800/);
    expect(redactBody(undefined)).toBeNull();
    expect(redactBody("not json {")).toBe("not json {");
    expect(redactSecrets(`idem-${"1796147688602"}`)).toBe("idem-1796147688602");
  });
});

describe("redactText", () => {
  it("redacts a card number that straddles the length cut (redacted before it is cut)", () => {
    const out = redactText(`${"x".repeat(API_LOG_STRING_MAX - 8)} 4242 4242 4242 4242 tail`);
    expect(out).not.toMatch(/4242/);
    expect(out.endsWith("…[truncated]")).toBe(true);
  });

  it("never leaves half a surrogate pair where it cuts (Postgres refuses a lone half in jsonb)", () => {
    const out = redactText(`${"x".repeat(API_LOG_STRING_MAX - 1)}😀😀`);
    expect(out).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  });
});
