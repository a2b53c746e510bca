/**
 * Runs the local engine as its own process: `node --import tsx inngest/engine/bin.ts --database-url … \
 *   --port 8288 --app-url http://localhost:3000/api/inngest [--signing-key-file F] [--signing-key-fallback-file F2]
 *   [--event-key K] [--backoff-ms 50] …`.
 * With a signing key (read from a file, so it never shows in `ps`) every call to the app is signed and its
 * answers verified; the app's serve() refuses unsigned calls. During a key rotation the previous key goes in
 * the fallback file: /fn/register and checkpoints authenticated with it, and answers signed with it, are accepted.
 * Used by the crash test (killed with SIGKILL and restarted) and usable by scripts/dev.ts. Flags, not env:
 * the env module stays the one reader of process.env.
 * A failure the engine cannot recover from (an uncaught exception or rejection) logs and exits 1, so the
 * supervisor restarts it; a database outage is not one: the work loop retries until Postgres is back.
 */
import { readFileSync } from "node:fs";
import { startEngine } from "./index";
import { exponentialBackoff } from "./time";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function numberOption(name: string): number | undefined {
  const v = option(name);
  return v === undefined ? undefined : Number(v);
}

async function main(): Promise<void> {
  const databaseUrl = option("--database-url");
  if (!databaseUrl) throw new Error("--database-url is required");
  const backoffMs = numberOption("--backoff-ms");
  const keyFile = option("--signing-key-file");
  const fallbackFile = option("--signing-key-fallback-file");
  const handle = await startEngine({
    databaseUrl,
    port: numberOption("--port") ?? 8288,
    appUrl: option("--app-url"),
    signingKey: keyFile ? readFileSync(keyFile, "utf8").trim() : undefined,
    signingKeyFallback: fallbackFile ? readFileSync(fallbackFile, "utf8").trim() || undefined : undefined,
    eventKey: option("--event-key"),
    resyncMs: numberOption("--resync-ms"),
    backoff: backoffMs ? exponentialBackoff(backoffMs, backoffMs * 20) : undefined,
    leaseMs: numberOption("--lease-ms"),
    heartbeatMs: numberOption("--heartbeat-ms"),
    callTimeoutMs: numberOption("--call-timeout-ms"),
    pollMs: numberOption("--poll-ms"),
    concurrency: numberOption("--concurrency"),
    log: (m) => console.log(m),
  });
  console.log(`[engine] listening on ${handle.url}`);
  const shutdown = () => void handle.stop().then(() => process.exit(0));
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

// Half-alive is worse than dead: whatever escaped every handler ends the process with a non-zero code.
function die(kind: string, e: unknown): void {
  console.error(`[engine] ${kind}, exiting: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
}
process.on("uncaughtException", (e) => die("uncaught exception", e));
process.on("unhandledRejection", (e) => die("unhandled rejection", e));

main().catch((e) => die("startup failed", e));
