import { fieldErrorsOf } from "@/components/trpc/field-errors";

/** A refused call's message for a form: the field errors' own words, else the server's message. */
export function formError(err: unknown): string | null {
  if (!err) return null;
  const fields = fieldErrorsOf(err);
  const first = Object.values(fields).flat().find(Boolean);
  if (first) return first;
  return err instanceof Error ? err.message : "Something went wrong.";
}
