const STYLES: Record<string, string> = {
  SUCCESS: "bg-green-50 text-green-800 ring-green-600/20",
  FAILED: "bg-red-50 text-red-800 ring-red-600/20",
  EXECUTING: "bg-amber-50 text-amber-800 ring-amber-600/20",
  NOT_STARTED: "bg-slate-50 text-slate-700 ring-slate-500/20",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`inline-flex rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${STYLES[status] ?? STYLES.NOT_STARTED}`} data-status={status}>
      {status}
    </span>
  );
}
