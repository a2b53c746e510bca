// Preloaded (NODE_OPTIONS=--require) into every node process `npm run dev` starts, and inherited by their own
// node children (next's CLI forks the server, which forks workers): when the process's parent dies, even by
// SIGKILL, the process is re-parented and process.ppid changes; it then stops itself (SIGTERM, so it can close
// cleanly, then exit 1 if it has not within a few seconds). A node process cannot learn its parent's death
// otherwise (no prctl(PR_SET_PDEATHSIG) in node). The timer is unref'd: it never keeps a process alive.
"use strict";
const POLL_MS = Number(process.env.PAYBRIDGE_WATCHDOG_POLL_MS) || 500;
const GRACE_MS = 3000;
const parent = process.ppid;
if (parent > 1) {
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    setTimeout(() => process.exit(1), GRACE_MS).unref();
    try {
      process.kill(process.pid, "SIGTERM");
    } catch {
      process.exit(1);
    }
  }, POLL_MS);
  timer.unref();
}
