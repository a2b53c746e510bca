import { describe, expect, it } from "vitest";
import { catalogEvent, EVENT_CATALOG, isCatalogEventName, parseCatalogEvent, UnknownEventError } from "./catalog";

describe("event catalog", () => {
  it("names every event the app sends or triggers on, once", () => {
    expect(Object.keys(EVENT_CATALOG).sort()).toEqual([
      "dispute/psp.updated",
      "keys/reencrypt.requested",
      "merchant/event.created",
      "merchant/webhook.deliver",
      "ops/exceptions.sweep-requested",
      "payment/attempt.cancel",
      "payment/attempt.execute",
      "payment/psp.updated",
      "payout/execute",
      "payout/psp.updated",
      "payouts/schedule.requested",
      "platform/ping",
      "psp/event.received",
      "reconciliation/run.requested",
      "refund/execute",
      "refund/psp.updated",
    ]);
    for (const [name, def] of Object.entries(EVENT_CATALOG)) expect(def.name).toBe(name);
  });

  it("refuses unknown names, inherited properties included", () => {
    expect(isCatalogEventName("payment/attempt.execute")).toBe(true);
    for (const name of ["payment/attempt.exec", "toString", "__proto__", ""]) {
      expect(isCatalogEventName(name)).toBe(false);
      expect(() => catalogEvent(name)).toThrow(UnknownEventError);
      expect(() => parseCatalogEvent(name, {})).toThrow(UnknownEventError);
    }
  });

  it("validates payloads against the event's schema", () => {
    expect(parseCatalogEvent("payment/attempt.execute", { attemptId: "a1" })).toEqual({ attemptId: "a1" });
    expect(() => parseCatalogEvent("payment/attempt.execute", { attemptId: "" })).toThrow();
    expect(() => parseCatalogEvent("platform/ping", { message: "x".repeat(201) })).toThrow();
    expect(parseCatalogEvent("psp/event.received", { psp: "mpesa", pspEventId: "e", storedEventId: "s" })).toEqual({ psp: "mpesa", pspEventId: "e", storedEventId: "s" });
  });
});
