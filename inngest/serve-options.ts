// How /api/inngest is served, shared by the route and the tests that drive the same handler: signatures are
// verified on every request — runs (POST), syncs (PUT, in-band or not) and introspection (GET). The SDK's
// default accepts an unsigned out-of-band PUT, which makes the app register itself with whatever URL the
// caller's Host header claims; refused here. Sync from the engine (in-band, signed) or Inngest's dashboard.
export const SERVE_OPTIONS = { enableUnauthedSync: false } as const;
