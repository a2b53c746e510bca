/**
 * `npm run start:app` — the Next app in production: `next start` on PORT for the build in .next (run
 * `npm run build` first; this refuses clearly without one). The environment is passed through unchanged and
 * validated first (server/env.js); the app refuses an unsafe production configuration itself
 * (instrumentation.ts). Migrations are not run here: run `npm run db:migrate` as the release step
 * (docs/operations.md). Ready once it answers HTTP on PORT; see scripts/start/part.ts for signals and exit codes.
 * `next start` runs as a child with scripts/start/next-preload.cjs, so it exits 1 on an uncaught exception and
 * dies with this process.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { env } from "../../server/env.js";
import { runPart } from "./part";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const APP_READY_POLL_MS = 250;
export const APP_READY_TIMEOUT_MS = 120_000;

runPart("app", async () => {
  if (!existsSync(path.join(ROOT, ".next", "BUILD_ID"))) {
    throw new Error(`no production build in ${path.join(ROOT, ".next")}: run \`npm run build\` first`);
  }
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
  const preload = path.join(ROOT, "scripts/start/next-preload.cjs");
  // The environment is inherited as it is (no `env` option): the app reads and validates it itself.
  const child = spawn(process.execPath, ["--require", preload, nextBin, "start", "--port", String(env.PORT)], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(`next start exited (${signal ?? `code ${code}`})`));
    child.once("error", (e) => resolve(`next start could not run: ${e.message}`));
  });

  // Ready when it answers HTTP at all: /api/health may say 503 while a part it depends on is down.
  const local = `http://127.0.0.1:${env.PORT}`;
  const deadline = Date.now() + APP_READY_TIMEOUT_MS;
  for (;;) {
    const answered = await fetch(`${local}/api/health`).then(() => true, () => false);
    if (answered) break;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(await exited);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`next start did not answer ${local}/api/health within ${APP_READY_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, APP_READY_POLL_MS));
  }
  return {
    ready: `${local} (APP_URL ${env.APP_URL})`,
    died: exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
});
