import Link from "next/link";

export default function HomePage() {
  return (
    <main className="mx-auto flex min-h-screen max-w-2xl flex-col justify-center gap-6 px-6">
      <h1 className="text-3xl font-semibold">PayBridge</h1>
      <p className="text-slate-600">
        Hosted checkout for multi-seller commerce. Cards through PSP-hosted fields, M-Pesa through STK push, every
        shilling accounted for in a double-entry ledger.
      </p>
      <div className="flex gap-3">
        <Link className="rounded-md bg-brand-600 px-4 py-2 font-medium text-white hover:bg-brand-700" href="/signin">
          Sign in
        </Link>
        <Link className="rounded-md border border-slate-300 px-4 py-2 font-medium hover:bg-white" href="/dashboard">
          Dashboard
        </Link>
      </div>
    </main>
  );
}
