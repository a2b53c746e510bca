import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { createContextForRequest } from "@/server/trpc/context";
import { addLogContext, log, withLogContext } from "@/server/observability/log";
import { metrics } from "@/server/observability/metrics";
import { appRouter } from "@/server/trpc/root";

// Thin: cross-origin requests are refused while building the context (server/trpc/context.ts); authorization
// happens in the procedures' middleware (server/trpc/init.ts).
// Each request runs in its own log context; the context's request id joins it once built.
const handler = (req: Request) =>
  withLogContext({}, () =>
    fetchRequestHandler({
      endpoint: "/api/trpc",
      req,
      router: appRouter,
      createContext: async () => {
        const ctx = await createContextForRequest(req);
        addLogContext({ requestId: ctx.requestId });
        return ctx;
      },
      onError({ error, path, ctx }) {
        if (error.code === "INTERNAL_SERVER_ERROR") {
          log.error({ path, requestId: ctx?.requestId, err: error.cause ?? error }, "trpc internal error");
          metrics().serverErrors.inc({ surface: "trpc" });
        }
      },
    }),
  );

export { handler as GET, handler as POST };
