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

export function HydrateClient({ children }: { children: ReactNode }) {
  return <HydrationBoundary state={dehydrate(getQueryClient())}>{children}</HydrationBoundary>;
}
