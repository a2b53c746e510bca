import { randomUUID } from "node:crypto";
import { getDb } from "@/db";
import { MERCHANT_SCOPE_COOKIE, MERCHANT_SCOPE_HEADER } from "@/server/auth/access";
import { currentUserId } from "@/server/auth/config";
import { clientIpFromHeaders } from "@/server/http/client-ip";
import type { TRPCContext } from "./init";

function cookieValue(cookieHeader: string | null, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

/** Builds the context from a request's headers: used by the HTTP handler and the RSC caller alike. */
export async function createContextFromHeaders(headers: Headers): Promise<TRPCContext> {
  return {
    db: getDb(),
    userId: await currentUserId(),
    requestedMerchantId: headers.get(MERCHANT_SCOPE_HEADER) ?? cookieValue(headers.get("cookie"), MERCHANT_SCOPE_COOKIE),
    requestId: headers.get("x-request-id") ?? randomUUID(),
    clientIp: clientIpFromHeaders(headers),
  };
}
