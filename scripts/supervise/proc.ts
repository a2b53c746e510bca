// What `npm run dev` needs to know about processes and ports on this machine (Linux /proc): who listens on a
// port, a process's command line and start time (to tell a pid from a later process that reuses it).
import { isPortFree } from "../../db/embedded";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface ProcessInfo {
  pid: number;
  /** argv joined by spaces. */
  cmdline: string;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  start: string;
  ppid: number;
}

export function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return undefined; // a zombie is dead
    return { pid, cmdline, start: fields[19] ?? "", ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Alive, and the same process as recorded (same start time, and the same command line if given). */
export function isSameProcess(pid: number, start: string, cmdline?: string): boolean {
  const info = processInfo(pid);
  return Boolean(info && info.start === start && (cmdline === undefined || info.cmdline === cmdline));
}

/** Socket inodes listening on `port` (IPv4 and IPv6), from /proc/net/tcp{,6}. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== "0A") continue; // 0A = LISTEN
      if (parseInt(local.split(":")[1] ?? "", 16) === port && cols[9]) inodes.add(cols[9]);
    }
  }
  return inodes;
}

/** The processes holding a socket that listens on `port` (empty when none, or when /proc does not say). */
export function listenersOf(port: number): ProcessInfo[] {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return [];
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1]!)) {
        const info = processInfo(Number(entry));
        if (info) out.push(info);
        break;
      }
    }
  }
  return out;
}

/** True when `pid` is `ancestor` or one of its descendants. */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
    if (p === ancestor) return true;
    const info = processInfo(p);
    if (!info) return false;
    p = info.ppid;
  }
  return false;
}

/**
 * Refuses with a message naming the port, what wanted it and the process holding it (or how to find it).
 * `graceMs`: keep asking that long first. A process just killed can still hold its sockets for a moment: its main
 * thread already shows as a zombie while its other threads are still exiting with the shared file table.
 */
export async function assertPortFree(port: number, what: string, graceMs = 0): Promise<void> {
  // next listens on all interfaces; a holder on either the wildcard or loopback address blocks it.
  const free = async () => (await isPortFree(port, "127.0.0.1")) && (await isPortFree(port, "0.0.0.0"));
  const deadline = Date.now() + graceMs;
  for (;;) {
    if (await free()) return;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const holders = listenersOf(port);
  const who = holders.length
    ? holders.map((h) => `pid ${h.pid} (${h.cmdline.slice(0, 200)})`).join(", ")
    : `a process this user cannot see (find it with: ss -ltnp 'sport = :${port}')`;
  throw new Error(`Port ${port} (${what}) is already in use by ${who}. Stop it, or choose another port.`);
}
