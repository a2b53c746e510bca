import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { createContextForRequest } from "@/server/trpc/context";
import { appRouter } from "@/server/trpc/root";

// Thin: cross-origin requests are refused while building the context (server/trpc/context.ts); authorization
// happens in the procedures' middleware (server/trpc/init.ts).
const handler = (req: Request) =>
  fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: () => createContextForRequest(req),
    onError({ error, path, ctx }) {
      if (error.code === "INTERNAL_SERVER_ERROR") {
        console.error(JSON.stringify({ level: "error", msg: "trpc internal error", path, requestId: ctx?.requestId, error: error.cause?.message ?? error.message }));
      }
    },
  });

export { handler as GET, handler as POST };
