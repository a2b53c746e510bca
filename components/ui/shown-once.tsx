"use client";

/** A secret the server returns exactly once (API key, webhook signing secret): show it until dismissed. */
export function ShownOnce(props: { message: string; value: string; testId: string; onDone: () => void }) {
  return (
    <div role="status" className="rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm">
      <p className="font-medium">{props.message}</p>
      <code className="mt-2 block break-all rounded bg-white px-2 py-1 font-mono" data-testid={props.testId}>
        {props.value}
      </code>
      <button className="mt-2 text-amber-900 underline" onClick={props.onDone}>
        I have copied it
      </button>
    </div>
  );
}
