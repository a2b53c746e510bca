import { describe, expect, it } from "vitest";
import { feeToReturn } from "./create-refund";

describe("feeToReturn (refund_fee_policy 'return')", () => {
  it("pro rata, rounded down; the completing refund returns exactly what is left", () => {
    expect(feeToReturn({ fee: 150n, orderAmount: 300n, refundedBefore: 0n, feeReturnedBefore: 0n, amount: 100n })).toBe(50n);
    expect(feeToReturn({ fee: 150n, orderAmount: 300n, refundedBefore: 100n, feeReturnedBefore: 50n, amount: 200n })).toBe(100n);
    expect(feeToReturn({ fee: 0n, orderAmount: 300n, refundedBefore: 0n, feeReturnedBefore: 0n, amount: 300n })).toBe(0n);
  });

  it("never returns more than what is left of the fee after earlier refunds failed and were replaced", () => {
    // Fee 150 on an order of 300. Three 1-unit refunds return floor(0.5) = 0 each; a 297-unit one completes the
    // order and returns all 150. The three small ones fail (their amount is refundable again, their fee was 0).
    // A 2-unit refund now: pro rata floor(150 * 2 / 300) = 1, but nothing of the fee is left to return.
    let returned = 0n;
    for (let i = 0; i < 3; i++) returned += feeToReturn({ fee: 150n, orderAmount: 300n, refundedBefore: BigInt(i), feeReturnedBefore: returned, amount: 1n });
    expect(returned).toBe(0n);
    const big = feeToReturn({ fee: 150n, orderAmount: 300n, refundedBefore: 3n, feeReturnedBefore: 0n, amount: 297n });
    expect(big).toBe(150n);
    const two = feeToReturn({ fee: 150n, orderAmount: 300n, refundedBefore: 297n, feeReturnedBefore: 150n, amount: 2n });
    const last = feeToReturn({ fee: 150n, orderAmount: 300n, refundedBefore: 299n, feeReturnedBefore: 150n + two, amount: 1n });
    expect(two).toBe(0n);
    expect(big + two + last).toBe(150n);
  });
});
