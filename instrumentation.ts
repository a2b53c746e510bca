// Next runs register() once when a server starts (next start, next dev), before it serves a request:
// the production refusals (server/startup/guard.ts) hold for every entry point, a bare `next start` too.
// The Node-only part is imported only in the Node.js runtime (Next also compiles this file for the edge).
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { refuseUnsafeStart } = await import("./server/startup/refuse-unsafe-start");
  refuseUnsafeStart();
}
