import { initTRPC, TRPCError, type TRPC_ERROR_CODE_KEY } from "@trpc/server";
import superjson from "superjson";
import { ZodError, ZodRealError } from "zod";
import type { Db } from "@/db/client";
import type { PspConnector } from "@/server/psp/types";
import { loadAccess, requireOps, resolveMerchantScope, type MerchantRole } from "@/server/auth/access";
import type { SessionClaims } from "@/server/auth/session";
import { AppError, type ErrorCode } from "@/server/errors";
import { fieldPath, knownAppError } from "@/server/http/errors";
import { isStorableText, UNSTORABLE_TEXT_MESSAGE } from "@/server/http/storable-text";
import { consumeClientRateLimit } from "@/server/rate-limit/consume";

// The one place that builds the tRPC context and decides who may call what. Every procedure is built
// from one of: publicProcedure (public on purpose), authedProcedure, merchantProcedure(role), opsProcedure.

export interface TRPCContext {
  db: Db;
  /** Signed-in user id from the Auth.js session, or null. */
  userId: string | null;
  /**
   * The session's sign-in time and epoch, checked against the user's row on every authed call. Always set with
   * userId by the HTTP handler and the RSC caller (server/trpc/context.ts); absent only for in-process callers
   * that act as a user without a session (tests, scripts).
   */
  session?: SessionClaims;
  /** The merchant the caller asked to act for (x-merchant-id header or pb_merchant cookie), if any. */
  requestedMerchantId: string | undefined;
  requestId: string;
  /** The client's IP as our proxy saw it (rate limits on public procedures). */
  clientIp?: string;
  /** PSP connector factory; defaults to server/psp's getConnector (tests point it at their sandbox). */
  connectorFor?: (db: Db, psp: "stripe" | "mpesa") => PspConnector;
}

/** Field-level validation errors for forms: `fieldErrors.name?.[0]`. */
export interface FlatZodError {
  formErrors: string[];
  fieldErrors: Record<string, string[] | undefined>;
}

/** The app code of an error tRPC raised itself (unknown path, wrong method, unreadable input…). */
const APP_CODE_BY_TRPC_CODE: Partial<Record<TRPC_ERROR_CODE_KEY, ErrorCode>> = {
  PARSE_ERROR: "validation_failed",
  BAD_REQUEST: "validation_failed",
  UNAUTHORIZED: "unauthenticated",
  FORBIDDEN: "forbidden",
  NOT_FOUND: "not_found",
  METHOD_NOT_SUPPORTED: "method_not_allowed",
  CONFLICT: "conflict",
  PAYLOAD_TOO_LARGE: "payload_too_large",
  UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
  UNPROCESSABLE_CONTENT: "unprocessable",
  TOO_MANY_REQUESTS: "rate_limited",
};

/**
 * zod's flattening (errors keyed by the first path segment), plus each nested field's own errors under its full path
 * (`destination.phone`, `evidence.product_description`), so a form with nested input can show them on the field.
 */
function flatZodError(error: ZodError): FlatZodError {
  const formErrors: string[] = [];
  const fieldErrors = new Map<string, string[]>();
  const add = (key: string, message: string) => {
    // A caller's own key named like a prototype slot is no field of ours, and superjson refuses to send such a key
    // (a 500): it goes to the form errors, under its name.
    if (RESERVED_KEYS.has(key)) formErrors.push(`${key}: ${message}`);
    else fieldErrors.set(key, [...(fieldErrors.get(key) ?? []), message]);
  };
  for (const issue of error.issues) {
    if (issue.path.length === 0) {
      formErrors.push(issue.message);
      continue;
    }
    add(String(issue.path[0]), issue.message);
    if (issue.path.length >= 2) add(fieldPath(issue.path), issue.message);
  }
  return { formErrors: [...new Set(formErrors)], fieldErrors: Object.fromEntries(fieldErrors) };
}
const RESERVED_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** `a.b[0]`, the way the REST API names fields. */
const issuePath = (path: readonly PropertyKey[]): string => fieldPath(path) || "(input)";

/** "Invalid input: checkoutId: not a checkout id", instead of tRPC's default (the issues as a JSON dump). */
function zodMessage(error: ZodError): string {
  return `Invalid input: ${[...new Set(error.issues.map((i) => `${issuePath(i.path)}: ${i.message}`))].join("; ")}`;
}

// Every error has one shape: { message, code, data: { code, httpStatus, path?, appCode, zodError } }, appCode always
// one of ERROR_CODES (docs/security.md, "Bad input on the PSP webhooks and /api/trpc").
const t = initTRPC.context<TRPCContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error, ctx }) {
    const cause = error.cause;
    const internal = shape.data.httpStatus >= 500 && !(cause instanceof AppError);
    // Input tRPC could not read (bad JSON, bad superjson meta, nesting past the stack): the reader's own message
    // says nothing useful to a caller and may name our internals.
    const unreadable = error.code === "BAD_REQUEST" && cause !== undefined && !(cause instanceof AppError) && !(cause instanceof ZodError) && !(cause instanceof TRPCError);
    const message = internal
      ? // Unknown errors never leak their message; the request id lets ops find the log line.
        `Something went wrong on our side (request ${ctx?.requestId ?? "unknown"})`
      : cause instanceof ZodError
        ? zodMessage(cause)
        : unreadable
          ? "The request input could not be read: send JSON in the {json, meta} form of the tRPC client."
          : shape.message;
    return {
      ...shape,
      message,
      data: {
        ...shape.data,
        stack: undefined,
        appCode: (cause instanceof AppError ? cause.code : internal ? "internal" : (APP_CODE_BY_TRPC_CODE[error.code] ?? "validation_failed")) as ErrorCode,
        zodError: cause instanceof ZodError ? flatZodError(cause) : null,
      },
    };
  },
});

export const createCallerFactory = t.createCallerFactory;
export const createTRPCRouter = t.router;

/** AppError -> TRPCError, so every domain failure maps to its one tRPC code. */
const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = knownAppError(result.error.cause);
    if (cause) throw new TRPCError({ code: cause.trpcCode, message: cause.userMessage, cause });
  }
  return result;
});

/**
 * Where in a (deserialized) input the first string or key sits that Postgres cannot store as sent (a NUL, an
 * unpaired surrogate), or undefined. Walked without recursion; only data a client can send (plain objects,
 * arrays, superjson's Map and Set).
 */
function unstorableTextPath(input: unknown): PropertyKey[] | undefined {
  const stack: { v: unknown; path: PropertyKey[] }[] = [{ v: input, path: [] }];
  // superjson's referentialEqualities can make the input cyclic: each object is walked once.
  const seen = new WeakSet<object>();
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v === "string") {
      if (!isStorableText(v)) return path;
      continue;
    }
    if (v === null || typeof v !== "object" || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v) || v instanceof Set) {
      [...v].forEach((item, i) => stack.push({ v: item, path: [...path, i] }));
    } else if (v instanceof Map) {
      for (const [k, item] of v) stack.push({ v: k, path }, { v: item, path: [...path, String(k)] });
    } else if ([Object.prototype, null].includes(Object.getPrototypeOf(v))) {
      for (const [k, item] of Object.entries(v)) {
        if (!isStorableText(k)) return path;
        stack.push({ v: item, path: [...path, k] });
      }
    }
  }
  return undefined;
}

/**
 * Every procedure's input, before its own schema: text Postgres cannot store is a field-level 400 (zodError
 * names the field, as for any other invalid input), never a database error and never silently changed.
 * (ZodRealError: zod's Error subclass, which tRPC keeps as the cause; a plain ZodError is no Error.)
 */
const storableInput = t.middleware(async ({ getRawInput, next }) => {
  const path = unstorableTextPath(await getRawInput());
  if (path) throw new TRPCError({ code: "BAD_REQUEST", cause: new ZodRealError([{ code: "custom", path: path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: UNSTORABLE_TEXT_MESSAGE, input: undefined }]) });
  return next();
});

export const publicProcedure = t.procedure.use(appErrors).use(storableInput);

/**
 * Public on purpose, but rate-limited per client IP: the hosted checkout's actions, which reach a PSP.
 * Bucketed by procedure group so a buyer's polling never eats into their ability to pay.
 */
export function rateLimitedPublicProcedure(bucket: string, limitPerMinute: () => number) {
  return publicProcedure.use(async ({ ctx, next }) => {
    const r = await consumeClientRateLimit(ctx.db, bucket, ctx.clientIp, limitPerMinute());
    if (!r.allowed) throw new AppError("rate_limited", `Too many requests. Try again in ${r.resetS} s.`, { details: { retryAfterS: r.resetS } });
    return next();
  });
}

export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  if (!ctx.userId) throw new AppError("unauthenticated");
  const access = await loadAccess(ctx.db, ctx.userId, ctx.session);
  return next({ ctx: { ...ctx, userId: ctx.userId, access } });
});

/** Session + merchant membership + minimum role, resolved once; handlers get a typed `ctx.merchant`. */
export function merchantProcedure(minRole: MerchantRole) {
  return authedProcedure.use(({ ctx, next }) => {
    const merchant = resolveMerchantScope(ctx.access, ctx.requestedMerchantId, minRole);
    return next({ ctx: { ...ctx, merchant } });
  });
}

export const opsProcedure = authedProcedure.use(({ ctx, next }) => {
  requireOps(ctx.access);
  return next({ ctx });
});
