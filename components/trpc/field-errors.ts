import { TRPCClientError } from "@trpc/client";

/** The zod field errors of a refused tRPC call (the errorFormatter's flattened zodError), or {}. */
export function fieldErrorsOf(err: unknown): Record<string, string[] | undefined> {
  if (!(err instanceof TRPCClientError)) return {};
  return (err.data as { zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null } | undefined)?.zodError?.fieldErrors ?? {};
}
