import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogLines } from "@/test/log-capture";
import { addLogContext, log, REDACT_CENSOR, withLogContext } from "./log";

describe("structured log", () => {
  beforeAll(() => void (log.level = "debug"));
  afterAll(() => void (log.level = "warn"));
  it("every line logged inside a context carries its ids; nested contexts add to it, the outer one is unchanged", async () => {
    const lines = await captureLogLines(async () => {
      await withLogContext({ requestId: "req_1" }, async () => {
        log.info("outer");
        await withLogContext({ runId: "run_1", eventId: "evt_1" }, async () => {
          await new Promise((r) => setTimeout(r, 5));
          addLogContext({ checkoutId: "co_1", orderIds: ["po_1", "po_2"] });
          log.warn({ extra: 1 }, "inner");
        });
        log.info("outer again");
      });
      log.info("outside");
    });
    const byMsg = Object.fromEntries(lines.map((l) => [l.msg, l]));
    expect(byMsg.outer).toMatchObject({ level: "info", requestId: "req_1", service: "paybridge" });
    expect(byMsg.outer).not.toHaveProperty("runId");
    expect(byMsg.inner).toMatchObject({ level: "warn", requestId: "req_1", runId: "run_1", eventId: "evt_1", checkoutId: "co_1", orderIds: ["po_1", "po_2"], extra: 1 });
    expect(byMsg["outer again"]).not.toHaveProperty("checkoutId");
    expect(byMsg.outside).not.toHaveProperty("requestId");
    expect(typeof byMsg.outer?.time).toBe("string");
  });

  it("redacts credentials, card data and buyers' personal data wherever they sit", async () => {
    const lines = await captureLogLines(() =>
      log.info(
        {
          headers: { authorization: "Bearer sk_live_secret", "stripe-signature": "t=1,v1=abc", cookie: "session=x" },
          buyer_info: { email: "jane@example.com", phone: "+254700000001", name: "Jane Doe" },
          request: { body: { card: { number: "4242424242424242", cvc: "123" }, billing_details: { name: "Jane" } } },
          email: "top@example.com",
          deep: { a: { b: { phone: "+254711111111" } } },
          checkoutId: "co_kept",
        },
        "sensitive",
      ),
    );
    const line = lines.find((l) => l.msg === "sensitive")!;
    const text = JSON.stringify(line);
    for (const secret of ["sk_live_secret", "v1=abc", "session=x", "jane@example.com", "+254700000001", "Jane Doe", "4242424242424242", "top@example.com", "+254711111111"]) {
      expect(text).not.toContain(secret);
    }
    expect(line).toMatchObject({ headers: { authorization: REDACT_CENSOR }, buyer_info: REDACT_CENSOR, email: REDACT_CENSOR, checkoutId: "co_kept" });
  });

  it("never logs the bound values of a failed query (Drizzle puts them in the error's message and params)", async () => {
    const { DrizzleQueryError } = await import("drizzle-orm/errors");
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const err = new DrizzleQueryError('select "id" from "users" where "email" = $1 and "ip" = $2', ["jane@example.com", "203.0.113.7"], cause);
    const lines = await captureLogLines(() => {
      log.error({ err }, "query failed");
      log.error({ err: new Error("wrapper", { cause: err }) }, "wrapped query failed");
    });
    for (const msg of ["query failed", "wrapped query failed"]) {
      const line = lines.find((l) => l.msg === msg)!;
      const text = JSON.stringify(line);
      expect(text).not.toContain("jane@example.com");
      expect(text).not.toContain("203.0.113.7");
      expect(text).toContain("from \\\"users\\\""); // the SQL text stays
      expect(text).toContain("ECONNREFUSED");
    }
  });
});
