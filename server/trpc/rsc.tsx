import "server-only";
import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { headers } from "next/headers";
import { cache, type ReactNode } from "react";
import { createContextFromHeaders } from "./context";
import { makeQueryClient } from "./query-client";
import { appRouter, createCaller } from "./root";

// tRPC for React Server Components: a per-request query client for prefetching, and a direct caller.
const createContext = cache(async () => createContextFromHeaders(new Headers(await headers())));

export const getQueryClient = cache(makeQueryClient);

export const trpc = createTRPCOptionsProxy({ ctx: createContext, router: appRouter, queryClient: getQueryClient });

/** Calls procedures directly from a server component (same middleware: auth, role, merchant scope). */
export async function serverCaller() {
  return createCaller(await createContext());
}

/**
 * The active merchant for this request, read once: the dashboard layout and its page both need it, and
 * React's cache() makes the second call reuse the first (same middleware, same auth checks).
 */
export const getMerchantMe = cache(async () => (await serverCaller()).merchant.me());
/** The same for the ops layout and the ops home page. */
export const getOpsOverview = cache(async () => (await serverCaller()).ops.overview());
/** Open exceptions by kind: the ops nav badge and the ops home page. */
export const getOpsExceptionSummary = cache(async () => (await serverCaller()).ops.exceptions.summary());

export function HydrateClient({ children }: { children: ReactNode }) {
  return <HydrationBoundary state={dehydrate(getQueryClient())}>{children}</HydrationBoundary>;
}
