// The lifecycle every production entry point shares (scripts/start/*.ts; docs/operations.md): one process per
// part, run by a supervisor (systemd, a Procfile runner, Kubernetes) that restarts it when it fails.
//   - one line when ready: `[<part>] ready: …`;
//   - SIGTERM / SIGINT: a graceful stop, then exit 0 (exit 1 if the stop fails or outlasts STOP_GRACE_MS);
//   - anything it cannot recover from (an uncaught exception, an unhandled rejection, a failed start such as a
//     port in use, the part's own fatal end) exits NON-ZERO at once, so the supervisor restarts it: a process
//     never keeps running half-alive.
// Transient trouble a part does recover from by itself (the database restarting, the engine or the app briefly
// unreachable) is logged by the part and retried; it does not end the process.

export const STOP_GRACE_MS = 20_000;

export interface RunningPart {
  /** What the ready line says after "ready: " (URLs, ports). */
  ready: string;
  /** Graceful stop: stop taking work, finish or hand back what is in hand, close connections. */
  stop: () => Promise<void>;
  /** Resolves with a reason if the part ends by itself (a child process died): the process then exits 1. */
  died?: Promise<string>;
}

function describe(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

export function runPart(name: string, start: () => Promise<RunningPart>): void {
  const fatal = (what: string) => (e: unknown) => {
    console.error(`[${name}] fatal: ${what}: ${describe(e)}`);
    process.exit(1);
  };
  process.on("uncaughtException", fatal("uncaught exception"));
  process.on("unhandledRejection", fatal("unhandled rejection"));

  let part: RunningPart | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[${name}] ${signal}: stopping`);
    const timer = setTimeout(() => {
      console.error(`[${name}] did not stop within ${STOP_GRACE_MS / 1000} s; exiting`);
      process.exit(1);
    }, STOP_GRACE_MS);
    timer.unref();
    // A signal during start: nothing to stop yet but what start() left; exiting is the stop.
    void (part ? part.stop() : Promise.resolve()).then(
      () => {
        console.log(`[${name}] stopped`);
        process.exit(0);
      },
      (e: unknown) => {
        console.error(`[${name}] stop failed: ${describe(e)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  start().then(
    (p) => {
      part = p;
      if (stopping) {
        void p.stop().finally(() => process.exit(0));
        return;
      }
      console.log(`[${name}] ready: ${p.ready}`);
      void p.died?.then((reason) => {
        if (stopping) return;
        console.error(`[${name}] fatal: ${reason}`);
        process.exit(1);
      });
    },
    (e: unknown) => {
      // A plain Error is a refusal that explains itself (missing build, variable, port in use); anything else
      // (a TypeError…) is a bug: its stack says where.
      console.error(`[${name}] failed to start: ${e instanceof Error && e.constructor === Error ? e.message : describe(e)}`);
      process.exit(1);
    },
  );
}
