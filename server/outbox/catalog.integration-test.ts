import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { outboxEvents } from "@/db/schema";
import { paymentAttemptExecute, platformPing, pspPaymentUpdated, UnknownEventError, type CatalogEventName } from "@/server/events/catalog";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { enqueueEvent } from "./index";

// The outbox takes only catalog events (server/events/catalog.ts), each validated against its schema before
// anything is written.

let tdb: TestDatabase;

beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => {
  await tdb?.drop();
});

const rowsWithId = (id: string) => tdb.db.select().from(outboxEvents).where(eq(outboxEvents.id, id));

describe("enqueueEvent and the event catalog", () => {
  it("refuses a name that is not in the catalog and writes nothing", async () => {
    const typo = "payment/attempt.exec" as CatalogEventName; // a cast, or a JS caller
    await expect(enqueueEvent(tdb.db, { id: "unknown-1", name: typo, data: { attemptId: "a1" } })).rejects.toBeInstanceOf(UnknownEventError);
    await expect(enqueueEvent(tdb.db, { id: "unknown-2", event: { name: "x/not-an-event" as CatalogEventName }, data: { attemptId: "a1" } })).rejects.toThrow(/Unknown event "x\/not-an-event"/);
    // Not even an own property of the catalog object.
    await expect(enqueueEvent(tdb.db, { id: "unknown-3", name: "toString" as CatalogEventName, data: {} })).rejects.toBeInstanceOf(UnknownEventError);
    expect(await rowsWithId("unknown-1")).toEqual([]);
    expect(await rowsWithId("unknown-2")).toEqual([]);
    expect(await rowsWithId("unknown-3")).toEqual([]);
  });

  it("refuses a catalog event with a payload its schema rejects and writes nothing", async () => {
    await expect(enqueueEvent(tdb.db, { id: "bad-payload-1", event: paymentAttemptExecute, data: { attemptId: "" } })).rejects.toBeInstanceOf(ZodError);
    await expect(enqueueEvent(tdb.db, { id: "bad-payload-2", name: pspPaymentUpdated.name, data: { psp: "paypal", pspReference: "pi_1" } })).rejects.toBeInstanceOf(ZodError);
    await expect(enqueueEvent(tdb.db, { id: "bad-payload-3", name: platformPing.name, data: {} })).rejects.toBeInstanceOf(ZodError);
    for (const id of ["bad-payload-1", "bad-payload-2", "bad-payload-3"]) expect(await rowsWithId(id)).toEqual([]);
  });

  it("stores a valid catalog event (by definition or by name) with the parsed payload", async () => {
    expect(await enqueueEvent(tdb.db, { id: "valid-1", event: paymentAttemptExecute, data: { attemptId: "att_1" } })).toEqual({ id: "valid-1", inserted: true });
    expect(await rowsWithId("valid-1")).toMatchObject([{ id: "valid-1", name: "payment/attempt.execute", data: { attemptId: "att_1" }, sentAt: null }]);

    await tdb.db.transaction((tx) => enqueueEvent(tx, { id: "valid-2", name: "payment/psp.updated", data: { psp: "stripe", pspReference: "pi_2" } }));
    expect(await rowsWithId("valid-2")).toMatchObject([{ name: "payment/psp.updated", data: { psp: "stripe", pspReference: "pi_2" } }]);

    // The stored payload is the schema's output: keys it does not know are dropped, as before.
    await enqueueEvent(tdb.db, { id: "valid-3", name: platformPing.name, data: { message: "hi", extra: true } });
    const [row] = await rowsWithId("valid-3");
    expect(row?.data).toEqual({ message: "hi" });
  });
});
