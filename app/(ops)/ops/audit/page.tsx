import type { Metadata } from "next";
import { AuditLogConsole } from "@/components/ops/audit-log";
import { AUDIT_ACTIONS } from "@/server/audit/record-audit";

// Ops: the audit log of every privileged action (settings, team, keys, reviews, exceptions, replays…), across
// merchants. The list reads ops.auditLog (opsProcedure), so a merchant user is refused whatever the page does.

export const metadata: Metadata = { title: "Audit log" };

export default function OpsAuditPage() {
  return (
    <section className="flex flex-col gap-4">
      <div className="flex flex-col gap-1">
        <h2 className="text-base font-semibold">Audit log</h2>
        <p className="text-sm text-slate-600">Who did what, newest first. Filter by actor, action, merchant, target or UTC day; each row shows the data recorded with it.</p>
      </div>
      <AuditLogConsole actions={AUDIT_ACTIONS} />
    </section>
  );
}
