import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { createContextFromHeaders } from "@/server/trpc/context";
import { appRouter } from "@/server/trpc/root";

// Thin: authorization happens in the procedures' middleware (server/trpc/init.ts).
const handler = (req: Request) =>
  fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: () => createContextFromHeaders(req.headers),
    onError({ error, path, ctx }) {
      if (error.code === "INTERNAL_SERVER_ERROR") {
        console.error(JSON.stringify({ level: "error", msg: "trpc internal error", path, requestId: ctx?.requestId, error: error.cause?.message ?? error.message }));
      }
    },
  });

export { handler as GET, handler as POST };
