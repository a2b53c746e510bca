import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { sweepRateLimitCounters } from "./consume";
import { consumeWindow, peekWindow } from "./window";

// Hourly sliding windows on rate_limit_counters (real Postgres): limits, the previous window's weight,
// rollback of a refused action, and rows that survive the housekeeping sweep while they count.

let t: TestDatabase;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0); // a window edge
let seq = 0;
const w = (limit = 3) => ({ bucket: `test-window:${++seq}`, limit, windowMs: HOUR });

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

describe("consumeWindow / peekWindow", () => {
  it("admit up to the limit within a window; peek counts nothing and says when the limit is reached", async () => {
    const win = w(3);
    expect((await peekWindow(t.db, win, T0)).allowed).toBe(true);
    for (let i = 1; i <= 3; i++) expect(await consumeWindow(t.db, win, 1, T0 + i)).toMatchObject({ allowed: true, remaining: 3 - i });
    expect((await peekWindow(t.db, win, T0 + 10)).allowed).toBe(false);
    expect((await consumeWindow(t.db, win, 1, T0 + 10)).allowed).toBe(false);
  });

  it("weights the previous window by its overlap: a burst at the end of one window is not admitted again right after the edge", async () => {
    const win = w(4);
    await consumeWindow(t.db, win, 4, T0 + HOUR - 1_000);
    expect((await consumeWindow(t.db, win, 1, T0 + HOUR + 1_000)).allowed).toBe(false);
    // Three quarters into the next window a quarter of the 4 still counts: 1, plus this window's 1 (the refused try) + 1 = 3 ≤ 4.
    expect((await consumeWindow(t.db, win, 1, T0 + HOUR + (3 * HOUR) / 4)).allowed).toBe(true);
    expect((await peekWindow(t.db, win, T0 + 3 * HOUR)).allowed).toBe(true);
  });

  it("a consume inside a transaction that rolls back counts nothing", async () => {
    const win = w(1);
    await t.db.transaction(async (tx) => {
      await consumeWindow(tx, win, 1, T0);
      tx.rollback();
    }).catch(() => {});
    expect((await peekWindow(t.db, win, T0)).remaining).toBe(1);
  });

  it("the housekeeping sweep keeps a window's row while it counts (this window and the next), then drops it", async () => {
    const win = w(2);
    await consumeWindow(t.db, win, 2, T0 + 1_000);
    await sweepRateLimitCounters(t.db, T0 + HOUR - 1_000);
    expect((await peekWindow(t.db, win, T0 + HOUR - 500)).allowed).toBe(false);
    await sweepRateLimitCounters(t.db, T0 + HOUR + HOUR / 2);
    expect((await peekWindow(t.db, win, T0 + HOUR + 1_000)).remaining).toBe(0);
    await sweepRateLimitCounters(t.db, T0 + 3 * HOUR);
    const rows = await t.sql`select count(*)::int as n from rate_limit_counters where bucket like ${`${win.bucket}@%`}`;
    expect(rows[0]!.n).toBe(0);
  });
});
