import { env } from "@/server/env.js";
import { startupProblems } from "./guard";

/** For instrumentation.ts: a server process whose configuration is unsafe stops before serving anything. */
export function refuseUnsafeStart(): void {
  const problems = startupProblems({ production: env.NODE_ENV === "production", embeddedDatabase: env.EMBEDDED_DATABASE ?? false, env });
  if (problems.length === 0) return;
  console.error(`[paybridge] Refusing to start: unsafe configuration\n  - ${problems.join("\n  - ")}`);
  // A thrown error in register() is only logged by Next, which would go on serving: stop the process.
  process.exit(1);
}
