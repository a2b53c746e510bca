import { describe, expect, it } from "vitest";
import {
  assertEventSizes,
  clampRetryAfterMs,
  enforceStepOutputLimit,
  EventTooLargeError,
  goJsonBytes,
  MAX_EVENT_BYTES,
  MAX_STEP_OUTPUT_BYTES,
  notSdkOutcome,
  RETRY_AFTER_MAX_MS,
  RETRY_AFTER_MIN_MS,
  stepOutputBytes,
  stepResultBytes,
} from "./limits";
import { parseCallResponse } from "./protocol";

// The limit helpers against the numbers Inngest's source gives (pkg/consts, httpdriver, state/opcode.go).

describe("Inngest's limits", () => {
  it("measures a step output as GeneratorOpcode.Output() does, with Go's escapes", () => {
    // {"data":"ab"} is 13 bytes; '<' is written as \u003c by encoding/json (6 bytes).
    expect(stepOutputBytes({ id: "s", op: "StepRun", data: "ab" })).toBe(13);
    expect(stepOutputBytes({ id: "s", op: "StepRun", data: "<" })).toBe(11 + 6);
    expect(stepOutputBytes({ id: "s", op: "StepError", error: { name: "E", message: "m" } })).toBe(JSON.stringify({ error: { name: "E", message: "m" } }).length);
    expect(goJsonBytes(JSON.stringify("é\u2028"))).toBe(2 + 2 + 6);
    expect(stepResultBytes({ type: "data", data: 1 })).toBe(JSON.stringify({ data: 1 }).length);
  });

  it("refuses an answer with an op output over 4 MB as a retriable failed attempt; exactly 4 MB passes", () => {
    const at = { kind: "ops" as const, ops: [{ id: "big", op: "StepRun", data: "x".repeat(MAX_STEP_OUTPUT_BYTES - 11) }] };
    expect(enforceStepOutputLimit(at)).toBe(at);
    const over = { kind: "ops" as const, ops: [{ id: "big", op: "StepRun", data: "x".repeat(MAX_STEP_OUTPUT_BYTES - 10) }] };
    expect(enforceStepOutputLimit(over)).toMatchObject({ kind: "error", retriable: true, error: { message: "error validating generator opcode big: step output size is greater than the limit" } });
  });

  it("clamps Retry-After to 1 s – 24 h", () => {
    expect(clampRetryAfterMs(undefined)).toBeUndefined();
    expect(clampRetryAfterMs(0)).toBe(RETRY_AFTER_MIN_MS);
    expect(clampRetryAfterMs(5_000)).toBe(5_000);
    expect(clampRetryAfterMs(48 * 3_600_000)).toBe(RETRY_AFTER_MAX_MS);
  });

  it("treats a 2xx without X-Inngest-SDK as not the SDK's answer (retriable), whatever the body", () => {
    expect(notSdkOutcome(200, new Headers())).toMatchObject({ kind: "error", retriable: true, error: { name: "not_sdk" } });
    expect(notSdkOutcome(206, new Headers())).toMatchObject({ kind: "error", error: { name: "not_sdk" } });
    expect(notSdkOutcome(200, new Headers({ "x-inngest-sdk": "inngest-js:v4.24.0" }))).toBeUndefined();
    expect(notSdkOutcome(500, new Headers())).toBeUndefined();
    expect(parseCallResponse(200, new Headers({ "content-type": "text/html" }), "<html>maintenance</html>", Date.now())).toMatchObject({ kind: "error", error: { name: "not_sdk" } });
    expect(parseCallResponse(200, new Headers({ "x-inngest-sdk": "inngest-js:v4.24.0" }), '"ok"', Date.now())).toEqual({ kind: "completed", output: "ok" });
  });

  it("refuses an event over 512 KB as it was sent; exactly 512 KB passes", () => {
    const event = (n: number) => ({ name: "a/b", data: { blob: "z".repeat(n) } });
    const overhead = JSON.stringify(event(0)).length;
    expect(() => assertEventSizes([event(MAX_EVENT_BYTES - overhead)])).not.toThrow();
    expect(() => assertEventSizes([event(MAX_EVENT_BYTES - overhead + 1)])).toThrow(EventTooLargeError);
    expect(() => assertEventSizes([event(MAX_EVENT_BYTES)])).toThrow(`Event is over the max size: Max ${MAX_EVENT_BYTES} bytes / Size ${MAX_EVENT_BYTES + overhead} bytes`);
  });
});
