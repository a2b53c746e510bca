import { TRPCClientError } from "@trpc/client";

/** The zod field errors of a refused tRPC call (the errorFormatter's flattened zodError), or {}. */
export function fieldErrorsOf(err: unknown): Record<string, string[] | undefined> {
  if (!(err instanceof TRPCClientError)) return {};
  return (err.data as { zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null } | undefined)?.zodError?.fieldErrors ?? {};
}

/** A refused call's message for a form: the field errors' own words, else the server's message. */
export function formError(err: unknown): string | null {
  if (!err) return null;
  const fields = fieldErrorsOf(err);
  const first = Object.values(fields).flat().find(Boolean);
  if (first) return first;
  return err instanceof Error ? err.message : "Something went wrong.";
}
