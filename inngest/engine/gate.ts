import type { Transport } from "./transport";
import { cappedDoubling } from "./time";
import { AppTransportError } from "./transport";

// The app-reachability gate. When a call to an app finds nobody listening (connection refused, DNS…),
// the engine stops claiming that app's calls and instead probes it (a GET of its serve() URL; any HTTP
// answer means it listens) with a capped, doubling backoff. The first answer reopens the gate. So a
// restarting app costs a few probes, not every due job's retries.

export const TRANSPORT_RETRY_MIN_MS = 250;
export const TRANSPORT_RETRY_MAX_MS = 5000;
export const PROBE_TIMEOUT_MS = 2000;

/** 250 ms doubling to 5 s: how long to wait after the n-th (0-based) consecutive transport failure. */
export function transportBackoff(n: number): number {
  return cappedDoubling(n, TRANSPORT_RETRY_MIN_MS, TRANSPORT_RETRY_MAX_MS);
}

interface ClosedGate {
  /** A URL of the app to probe (a function's step URL). */
  url: string;
  failures: number;
  probeAt: number;
  probing: boolean;
}

export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export class AppGate {
  private readonly closed = new Map<string, ClosedGate>();

  constructor(
    private readonly transport: Transport,
    private readonly log: (msg: string) => void,
    private readonly onOpen: () => void = () => {},
  ) {}

  /** Origins whose calls must not be claimed now. */
  closedOrigins(): string[] {
    return [...this.closed.keys()];
  }

  reportUnreachable(url: string, reason: string): void {
    const origin = originOf(url);
    if (this.closed.has(origin)) return;
    this.closed.set(origin, { url, failures: 0, probeAt: Date.now() + transportBackoff(0), probing: false });
    this.log(`[engine] ${origin} is unreachable (${reason}): not claiming its calls until a probe answers`);
  }

  reportReachable(url: string): void {
    // Every answered call reports: nothing to parse while no gate is closed.
    if (this.closed.size === 0) return;
    this.open(originOf(url));
  }

  /** Starts the probes that are due; each reopens its gate on any HTTP answer. */
  probeDue(): void {
    const now = Date.now();
    for (const [origin, g] of this.closed) {
      if (g.probing || g.probeAt > now) continue;
      g.probing = true;
      void this.probe(origin, g);
    }
  }

  private async probe(origin: string, g: ClosedGate): Promise<void> {
    try {
      await this.transport.send({ url: g.url, method: "GET", headers: {}, timeoutMs: PROBE_TIMEOUT_MS });
      this.open(origin);
    } catch (e) {
      if (!(e instanceof AppTransportError)) {
        // It answered something (a broken body, a timeout after connecting): it listens; calls decide the rest.
        this.open(origin);
        return;
      }
      g.failures += 1;
      g.probeAt = Date.now() + transportBackoff(g.failures);
      g.probing = false;
    }
  }

  private open(origin: string): void {
    const g = this.closed.get(origin);
    if (!g) return;
    this.closed.delete(origin);
    this.log(`[engine] ${origin} answers again after ${g.failures + 1} probe(s): claiming its calls`);
    this.onOpen();
  }
}
