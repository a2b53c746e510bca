import { randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { getDb } from "@/db";
import { MERCHANT_SCOPE_COOKIE, MERCHANT_SCOPE_HEADER } from "@/server/auth/access";
import { sessionFromHeaders } from "@/server/auth/config";
import { crossOriginRefusal } from "@/server/auth/request-origin";
import { AppError } from "@/server/errors";
import { clientIpFromHeaders } from "@/server/http/client-ip";
import type { TRPCContext } from "./init";

/** A cookie's decoded value; a value that is not valid percent-encoding counts as absent (never a 500). */
function cookieValue(cookieHeader: string | null, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k !== name) continue;
    try {
      return decodeURIComponent(v.join("="));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Builds the context from a request's headers: used by the HTTP handler and the RSC caller alike. */
export async function createContextFromHeaders(headers: Headers): Promise<TRPCContext> {
  const session = await sessionFromHeaders(headers);
  return {
    db: getDb(),
    userId: session?.userId ?? null,
    session: session ? { signedInAtMs: session.signedInAtMs, epoch: session.epoch } : undefined,
    requestedMerchantId: headers.get(MERCHANT_SCOPE_HEADER) ?? cookieValue(headers.get("cookie"), MERCHANT_SCOPE_COOKIE),
    requestId: headers.get("x-request-id") ?? randomUUID(),
    clientIp: clientIpFromHeaders(headers),
  };
}

/**
 * The context of a request to /api/trpc. A cross-origin request fails here, so tRPC answers every call in it
 * 403 and runs no procedure (server/auth/request-origin.ts).
 */
export async function createContextForRequest(req: Request): Promise<TRPCContext> {
  const reason = crossOriginRefusal(req);
  if (reason) throw new TRPCError({ code: "FORBIDDEN", message: reason, cause: new AppError("forbidden", reason) });
  return createContextFromHeaders(req.headers);
}
