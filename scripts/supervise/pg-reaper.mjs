// A small detached process started by `npm run dev` beside the embedded Postgres it runs (a native process
// that cannot notice its parent's death): when the orchestrator dies (even by SIGKILL), it stops that
// postmaster (SIGINT = fast shutdown; SIGKILL after a grace) and, for --ephemeral, removes the temp data dir.
// It exits on its own once the postmaster is gone (the orchestrator stopped it). Plain node, no tsx.
// argv[2]: JSON { ownerPid, ownerStart, postmasterPid, postmasterStart, removeDir? }.
import fs from "node:fs";
const POLL_MS = 500;
const STOP_GRACE_MS = 20_000;
const spec = JSON.parse(process.argv[2]);

/** Field 22 of /proc/<pid>/stat (start time in clock ticks): tells a pid from a later process reusing it. */
function startTime(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
function alive(pid, start) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const now = startTime(pid);
  return start === undefined || now === undefined || now === start;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  for (;;) {
    if (!alive(spec.postmasterPid, spec.postmasterStart)) return; // stopped by the orchestrator, or died: its business
    if (!alive(spec.ownerPid, spec.ownerStart)) break;
    await sleep(POLL_MS);
  }
  try {
    process.kill(spec.postmasterPid, "SIGINT");
  } catch {}
  const deadline = Date.now() + STOP_GRACE_MS;
  while (alive(spec.postmasterPid, spec.postmasterStart) && Date.now() < deadline) await sleep(100);
  if (alive(spec.postmasterPid, spec.postmasterStart)) {
    try {
      process.kill(spec.postmasterPid, "SIGKILL");
    } catch {}
    await sleep(500);
  }
  if (spec.removeDir) fs.rmSync(spec.removeDir, { recursive: true, force: true });
}
main().then(() => process.exit(0), () => process.exit(1));
