import Link from "next/link";

export default function OpsReconciliationCaseNotFound() {
  return (
    <section className="flex flex-col gap-2 rounded-lg border border-slate-200 bg-white px-4 py-6">
      <h2 className="text-base font-semibold">No such reconciliation case</h2>
      <p className="text-sm text-slate-600">The link is wrong or the case id is mistyped.</p>
      <Link href="/ops/reconciliation" className="text-sm underline">
        All reconciliation cases
      </Link>
    </section>
  );
}
