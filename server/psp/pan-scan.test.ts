import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redactSummary } from "./attempts";
import { findPans, luhnValid } from "./pan-scan";

describe("findPans", () => {
  it("finds test cards plain, spaced and dashed, inside JSON", () => {
    expect(findPans('{"card":"4242424242424242"}')).toEqual(["4242424242424242"]);
    expect(findPans("5555 5555 5555 4444 / 3782-822463-10005")).toEqual(["5555555555554444", "378282246310005"]);
  });
  it("ignores non-Luhn numbers, timestamps, phones and ids", () => {
    expect(findPans("4242424242424241 1795947434853 20261130013005 254712345678")).toEqual([]);
  });
  it("ignores digit runs inside hex digests (ledger hash chains, body digests), not cards next to short hex", () => {
    const hash = "9c1e647022744385082a5f0d3b7e2c4a1f6d8e9b0c2a4e6f8d0b2c4e6a8f0d2b";
    expect(findPans(`{"hash":"${hash}","prev_hash":"${hash}"}`)).toEqual([]);
    expect(findPans("stk:ws_CO_x:3847029456747abc")).toEqual([]);
    expect(findPans("ref:4242424242424242,next")).toEqual(["4242424242424242"]);
    expect(findPans("ref xyz4242424242424242")).toEqual(["4242424242424242"]);
  });
  it("every Luhn-valid 16-digit number starting with 4 is found", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 14, maxLength: 14 }), (digits) => {
        const body = `4${digits.join("")}`;
        const check = [...Array(10).keys()].find((d) => luhnValid(`${body}${d}`))!;
        expect(findPans(`x ${body}${check} y`)).toEqual([`${body}${check}`]);
      }),
    );
  });
});

describe("redactSummary", () => {
  it("drops sensitive keys and any value holding a card number", () => {
    expect(redactSummary({ amount: 100n, password: "p", nested: { api_key: "k", note: "card 4242424242424242" }, reference: "po_1" })).toEqual({ amount: "100", password: "[redacted]", nested: { api_key: "[redacted]", note: "[redacted]" }, reference: "po_1" });
  });
});
