import { describe, expect, it } from "vitest";
import { judgeAudit } from "./dependency-audit-report";

describe("judgeAudit", () => {
  it("an unreachable advisory service is a skip, with the reason", () => {
    const out = JSON.stringify({ message: "405 Method Not Allowed - POST https://registry.example/-/npm/v1/security/advisories/bulk", statusCode: 405 });
    expect(judgeAudit(out)).toEqual({ kind: "skipped", reason: expect.stringContaining("405 Method Not Allowed") });
    expect(judgeAudit("")).toMatchObject({ kind: "skipped" });
  });
  it("high or critical advisories fail; lower ones pass", () => {
    const report = (severity: string) => JSON.stringify({ vulnerabilities: { next: { severity } }, metadata: { vulnerabilities: { [severity]: 1 } } });
    expect(judgeAudit(report("critical"))).toMatchObject({ kind: "failed", packages: ["next (critical)"] });
    expect(judgeAudit(report("high"))).toMatchObject({ kind: "failed" });
    expect(judgeAudit(report("moderate"))).toMatchObject({ kind: "passed" });
  });
});
