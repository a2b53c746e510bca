"use client";

// Unexpected errors only: missing sessions and roles are redirected before rendering (page-guard.ts).
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="mx-auto flex min-h-screen max-w-md flex-col justify-center gap-4 px-6">
      <h1 className="text-xl font-semibold">Something went wrong</h1>
      <p className="text-sm text-slate-600">Reference: {error.digest ?? "unknown"}</p>
      <button onClick={reset} className="self-start rounded-md border border-slate-300 px-3 py-1">
        Try again
      </button>
    </main>
  );
}
