// Reads `npm audit --json` output and decides: pass, fail (known high/critical advisories in production
// dependencies) or skipped (the advisory service could not be asked). Pure, so it is tested.

export type AuditVerdict =
  | { kind: "passed"; counts: Record<string, number> }
  | { kind: "failed"; counts: Record<string, number>; packages: string[] }
  | { kind: "skipped"; reason: string };

export const FAILING_SEVERITIES = ["high", "critical"] as const;

interface AuditJson {
  message?: string;
  error?: { summary?: string; code?: string } | string;
  statusCode?: number;
  metadata?: { vulnerabilities?: Record<string, number> };
  vulnerabilities?: Record<string, { severity?: string }>;
}

export function judgeAudit(stdout: string): AuditVerdict {
  let parsed: AuditJson;
  try {
    parsed = JSON.parse(stdout) as AuditJson;
  } catch {
    return { kind: "skipped", reason: `npm audit printed no report (${stdout.trim().slice(0, 120) || "empty output"})` };
  }
  const counts = parsed.metadata?.vulnerabilities;
  if (!counts) {
    const err = typeof parsed.error === "string" ? parsed.error : (parsed.error?.summary || parsed.error?.code);
    return { kind: "skipped", reason: parsed.message ?? err ?? "the advisory service gave no report" };
  }
  const packages = Object.entries(parsed.vulnerabilities ?? {})
    .filter(([, v]) => FAILING_SEVERITIES.includes(v.severity as (typeof FAILING_SEVERITIES)[number]))
    .map(([name, v]) => `${name} (${v.severity})`);
  return packages.length > 0 ? { kind: "failed", counts, packages } : { kind: "passed", counts };
}
