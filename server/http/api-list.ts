import { z } from "zod";
import { AppError } from "@/server/errors";
import { validationError } from "./errors";

// List endpoints of /api/v1 (GET /api/v1/refunds, /api/v1/disputes): Stripe's list shape and paging parameters.

export const LIST_LIMIT_DEFAULT = 10;
export const LIST_LIMIT_MAX = 100;

/** Our ids: prefix + ULID (db/ids.ts). A malformed one is a 400 naming it, before any query. */
export function zObjectId(prefix: string, what: string) {
  return z.string().regex(new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`), `must be ${what} id such as ${prefix}_01JABCDEFGHJKMNPQRSTVWXYZ0`);
}

/** `limit` as a query string: 1–100 (default 10 when absent). */
export const ZListLimit = z
  .string()
  .regex(/^[1-9][0-9]{0,2}$/, `must be a whole number from 1 to ${LIST_LIMIT_MAX}`)
  .transform(Number)
  .refine((n) => n <= LIST_LIMIT_MAX, `must be a whole number from 1 to ${LIST_LIMIT_MAX}`)
  .optional();

/**
 * The query string, validated like a body: each parameter at most once, unknown ones refused (a misspelt filter
 * must not silently list everything), errors naming the parameter.
 */
export function parseQuery<T>(req: Request, schema: z.ZodType<T>): T {
  const params = new URL(req.url).searchParams;
  const seen = new Set<string>();
  const repeated: string[] = [];
  for (const k of params.keys()) {
    if (seen.has(k) && !repeated.includes(k)) repeated.push(k);
    seen.add(k);
  }
  if (repeated.length > 0) {
    const fields = repeated.map((k) => ({ path: k.slice(0, 100), message: "is given more than once" }));
    throw new AppError("validation_failed", `Invalid request: ${fields.map((f) => `${f.path}: ${f.message}`).join("; ")}`, { details: { fields } });
  }
  const parsed = schema.safeParse(Object.fromEntries(params));
  if (!parsed.success) {
    // An unknown parameter is named as itself (a body's unknown keys are "(body)": here there is no body).
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys" && issue.path.length === 0) {
        const fields = issue.keys.map((k) => ({ path: k.slice(0, 100), message: "is not a parameter of this list" }));
        throw new AppError("validation_failed", `Invalid request: ${fields.map((f) => `${f.path}: ${f.message}`).join("; ")}`, { details: { fields } });
      }
    }
    throw validationError(parsed.error);
  }
  return parsed.data;
}

/** starting_after that names no object of this merchant's (another merchant's included): a 400 naming the parameter. */
export function noSuchStartingAfter(what: string, id: string): AppError {
  return new AppError("validation_failed", `Invalid request: starting_after: no such ${what} ${JSON.stringify(id)}`, {
    details: { fields: [{ path: "starting_after", message: `is not a ${what} of this account` }] },
  });
}

/** Stripe's list shape: `url` is the list's path. */
export function listBody<T>(req: Request, data: T[], hasMore: boolean) {
  return { object: "list" as const, data, has_more: hasMore, url: new URL(req.url).pathname };
}
