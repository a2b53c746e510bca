import { serve } from "inngest/next";
import { inngest } from "@/inngest/client";
import { functions } from "@/inngest/functions";
import { serveOptions } from "@/inngest/serve-options";
import { env } from "@/server/env.js";

// Inngest's serve endpoint: PUT = sync, POST = run a step, GET = introspection. Every request must be
// signed with the signing key (inngest/client.ts); unsigned or wrongly signed ones get 401.
export const dynamic = "force-dynamic";
export const { GET, POST, PUT } = serve({ client: inngest, functions, ...serveOptions(env.APP_URL) });
