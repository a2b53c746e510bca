import { describe, expect, it } from "vitest";
import { EVENT_CATALOG } from "@/server/events/catalog";
import { eventCatalog } from "./events";
import { merchantEventCreated, merchantWebhookDeliver } from "./merchant-webhook-events";
import { paymentAttemptCancel, paymentAttemptExecute, pspPaymentUpdated } from "./payment-events";

describe("SDK event types", () => {
  it("are built from the catalog (server/events/catalog.ts): the same names and the same schema objects", () => {
    expect(Object.keys(eventCatalog).sort()).toEqual(Object.keys(EVENT_CATALOG).sort());
    for (const [name, def] of Object.entries(EVENT_CATALOG)) {
      const sdk = eventCatalog[name as keyof typeof eventCatalog];
      expect(sdk.name).toBe(name);
      expect(sdk.event).toBe(name);
      expect(sdk.schema).toBe(def.schema);
    }
    for (const sdk of [paymentAttemptExecute, paymentAttemptCancel, pspPaymentUpdated, merchantEventCreated, merchantWebhookDeliver]) expect(eventCatalog[sdk.name]).toBe(sdk);
  });

  it("build events whose payload the catalog schema validates", async () => {
    const ok = paymentAttemptExecute.create({ attemptId: "a1" }, { id: "e1" });
    expect(ok).toMatchObject({ name: "payment/attempt.execute", data: { attemptId: "a1" }, id: "e1" });
    await expect(ok.validate()).resolves.toBeUndefined();
    await expect(paymentAttemptExecute.create({ attemptId: "" }).validate()).rejects.toThrow();
  });
});
