// How /api/inngest is served, shared by the route and the tests that drive the same handler:
// - signatures are verified on every request — runs (POST), syncs (PUT, in-band or not) and introspection
//   (GET); the SDK's default accepts an unsigned out-of-band PUT;
// - the URL the app registers is pinned to APP_URL: a signature covers the body only, not the Host header,
//   so a replayed signed PUT could otherwise make the app register itself at the replayer's host;
// - no streaming (the SDK would answer 201 without a signature). INNGEST_STREAMING=true still wins over this
//   option (the SDK reads it itself, inngest/sdk-env.test.ts): production refuses that variable (server/startup/guard.ts).
export const SERVE_PATH = "/api/inngest";

export function serveOptions(appUrl: string) {
  return { enableUnauthedSync: false, serveOrigin: new URL(appUrl).origin, servePath: SERVE_PATH, streaming: false } as const;
}
