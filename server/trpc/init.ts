import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z, ZodError } from "zod";
import type { Db } from "@/db/client";
import type { PspConnector } from "@/server/psp/types";
import { loadAccess, requireOps, resolveMerchantScope, type MerchantRole } from "@/server/auth/access";
import type { SessionClaims } from "@/server/auth/session";
import { AppError } from "@/server/errors";
import { unstorableTextError } from "@/server/http/errors";
import { consumeRateLimit } from "@/server/rate-limit/consume";

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

const t = initTRPC.context<TRPCContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error, ctx }) {
    const cause = error.cause;
    const internal = error.code === "INTERNAL_SERVER_ERROR" && !(cause instanceof AppError);
    return {
      ...shape,
      // Unknown errors never leak their message; the request id lets ops find the log line.
      message: internal ? `Something went wrong on our side (request ${ctx?.requestId ?? "unknown"})` : shape.message,
      data: {
        ...shape.data,
        stack: undefined,
        appCode: cause instanceof AppError ? cause.code : internal ? "internal" : undefined,
        zodError: cause instanceof ZodError ? (z.flattenError(cause) as FlatZodError) : null,
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
    const cause = result.error.cause instanceof AppError ? result.error.cause : unstorableTextError(result.error.cause);
    if (cause) throw new TRPCError({ code: cause.trpcCode, message: cause.userMessage, cause });
  }
  return result;
});

export const publicProcedure = t.procedure.use(appErrors);

/**
 * Public on purpose, but rate-limited per client IP: the hosted checkout's actions, which reach a PSP.
 * Bucketed by procedure group so a buyer's polling never eats into their ability to pay.
 */
export function rateLimitedPublicProcedure(bucket: string, limitPerMinute: () => number) {
  return publicProcedure.use(async ({ ctx, next }) => {
    const r = await consumeRateLimit(ctx.db, `${bucket}:${ctx.clientIp ?? "unknown"}`, limitPerMinute());
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
