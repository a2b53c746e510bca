// Outbound notifications from the sandbox: Stripe webhook events (signed like Stripe) and Daraja callbacks
// (unsigned JSON, like Daraja). At-least-once; faults can duplicate, delay, reorder or drop them. Dropped Stripe
// events still appear in /v1/events, as with real Stripe.
// Retries: Stripe retries a failed webhook for up to three days with exponential backoff, and so does the
// sandbox, on the sandbox clock (advanceClock moves it; tests advance it instead of waiting): two quick retries
// (0.1 s, 0.2 s), then 1 min, x3 each time up to 12 h, and a last try exactly 3 days after the first.
// Daraja callbacks get the two quick retries only. A delivery is pending (and persisted, when the sandbox
// persists its state) from the moment the request that caused it is answered until it succeeds or is given up,
// so a sandbox restart does not lose it.
import { createHmac, randomBytes } from "node:crypto";
import type { WebhookFault } from "./faults";
import { Persistence, type PersistentMap } from "./persistence";

/** Daraja callbacks: attempts before giving up (Stripe webhooks: see STRIPE_RETRY_WINDOW_S). */
export const DELIVERY_ATTEMPTS_MAX = 3;
export const DELIVERY_BACKOFF_MS = 100;
export const DELIVERY_TIMEOUT_MS = 5_000;
/** Stripe gives up a webhook three days after its first attempt. */
export const STRIPE_RETRY_WINDOW_S = 3 * 86_400;
export const STRIPE_RETRY_FIRST_SLOW_S = 60;
export const STRIPE_RETRY_FACTOR = 3;
export const STRIPE_RETRY_MAX_DELAY_S = 12 * 3600;
/** webhooksIdle() waits for retries due within this (the quick ones), not for the slow ones. */
const QUICK_RETRY_WINDOW_MS = 1_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

type Schedule = "stripe" | "daraja";

/**
 * Sandbox milliseconds from failed attempt number `attempts` (1 = the first) to the next one, or undefined to
 * give up. For Stripe the caller also clamps to the 3-day window (retryAt).
 */
export function retryDelayMs(schedule: Schedule, attempts: number): number | undefined {
  if (attempts <= DELIVERY_ATTEMPTS_MAX - 1) return DELIVERY_BACKOFF_MS * 2 ** (attempts - 1);
  if (schedule === "daraja") return undefined;
  const slow = attempts - DELIVERY_ATTEMPTS_MAX; // 0 for the first slow retry
  return Math.min(STRIPE_RETRY_FIRST_SLOW_S * STRIPE_RETRY_FACTOR ** slow, STRIPE_RETRY_MAX_DELAY_S) * 1000;
}

/** When the next attempt is due after `attempts` failed ones (sandbox ms), or undefined to give up. */
export function retryAt(schedule: Schedule, attempts: number, firstAt: number, now: number): number | undefined {
  const delay = retryDelayMs(schedule, attempts);
  if (delay === undefined) return undefined;
  if (schedule === "daraja") return now + delay;
  const last = firstAt + STRIPE_RETRY_WINDOW_S * 1000;
  if (now >= last) return undefined;
  return Math.min(now + delay, last);
}

/** Offsets (sandbox seconds after the first attempt) of every attempt to a target that always fails at once. */
export function retryOffsetsS(schedule: Schedule): number[] {
  const out = [0];
  for (let attempts = 1, now = 0; ; attempts++) {
    const next = retryAt(schedule, attempts, 0, now);
    if (next === undefined) return out;
    now = next;
    out.push(now / 1000);
  }
}

export interface DeliveryRecord {
  url: string;
  /** Stripe event id, or the Daraja callback's identifying id. */
  id: string;
  type: string;
  status: number | "network_error" | "dropped";
  attempt: number;
  at: number;
  /** Sandbox clock (ms) at the attempt: differs from `at` once the clock was advanced. */
  clockAt?: number;
}

export function stripeSignatureHeader(secret: string, payload: string, timestampS: number): string {
  const v1 = createHmac("sha256", secret).update(`${timestampS}.${payload}`, "utf8").digest("hex");
  return `t=${timestampS},v1=${v1}`;
}

interface Outgoing {
  url: string;
  id: string;
  type: string;
  body: string;
  sign: boolean;
}

/** A delivery not yet acknowledged: persisted, so a restart resumes it. Times are sandbox-clock ms. */
export interface PendingDelivery extends Outgoing {
  key: string;
  attempts: number;
  firstAt: number;
  nextAt: number;
  /** Waiting in the in-order first-attempt queue (not for a retry timer). */
  queued: boolean;
}

export interface WebhookDispatcherOptions {
  stripeSecret: () => string;
  stripeTargets: () => string[];
  /** Sandbox clock, ms (Date.now() plus the advanced offset). */
  now?: () => number;
  persistence?: Persistence;
}

export class WebhookDispatcher {
  readonly log: DeliveryRecord[] = [];
  private chain: Promise<void> = Promise.resolve();
  private readonly pending: PersistentMap<PendingDelivery>;
  private readonly sending = new Set<string>();
  private inFlight = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly opts: WebhookDispatcherOptions) {
    this.now = opts.now ?? Date.now;
    this.pending = (opts.persistence ?? new Persistence({})).map<PendingDelivery>("webhook_pending");
    // Restored deliveries: the ones that were waiting for their first try go first, in order; the rest at their time.
    const queued = [...this.pending.values()].filter((p) => p.queued);
    if (queued.length) this.runInOrder(queued);
    this.wake();
  }

  /** Events of one API request, in the order they happened. */
  stripeEvents(events: { id: string; type?: unknown }[], faults: WebhookFault[]): void {
    const outs = this.opts.stripeTargets().flatMap((url) =>
      events.map((e) => ({ url, id: e.id, type: String(e.type), body: JSON.stringify(e, null, 2), sign: true })),
    );
    this.dispatch(outs, faults);
  }

  /** A Daraja callback to the URL the caller gave us. */
  darajaCallback(url: string, id: string, type: string, body: unknown, faults: WebhookFault[]): void {
    this.dispatch([{ url, id, type, body: JSON.stringify(body), sign: false }], faults);
  }

  private dispatch(outs: Outgoing[], faults: WebhookFault[]): void {
    if (faults.some((f) => f.kind === "webhook_drop")) {
      for (const o of outs) this.log.push({ url: o.url, id: o.id, type: o.type, status: "dropped", attempt: 0, at: Date.now(), clockAt: this.now() });
      return;
    }
    let list = faults.some((f) => f.kind === "webhook_reorder") ? [...outs].reverse() : outs;
    if (faults.some((f) => f.kind === "webhook_duplicate")) list = list.flatMap((o) => [o, o]);
    const delay = faults.find((f) => f.kind === "webhook_delay");
    const now = this.now();
    const pending = list.map((o) => this.track(o, now, delay && delay.kind === "webhook_delay" ? delay.ms : undefined));
    if (delay) return this.wake(); // sent when due (or by flushDelayed)
    this.runInOrder(pending);
  }

  private track(o: Outgoing, now: number, delayMs: number | undefined): PendingDelivery {
    const p: PendingDelivery = { ...o, key: `whd_${randomBytes(8).toString("hex")}`, attempts: 0, firstAt: now, nextAt: now + (delayMs ?? 0), queued: delayMs === undefined };
    this.pending.set(p.key, p);
    return p;
  }

  /** First attempts go one at a time, in the order the events happened. */
  private runInOrder(list: PendingDelivery[]): void {
    this.watch(
      (this.chain = this.chain.then(async () => {
        for (const p of list) await this.attempt(p);
      })),
    );
  }

  private watch(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async attempt(p: PendingDelivery): Promise<void> {
    if (this.stopped || this.sending.has(p.key) || this.pending.peek(p.key) !== p) return;
    this.sending.add(p.key);
    try {
      const attempt = p.attempts + 1;
      const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "PayBridge-PSP-Sandbox/1.0" };
      if (p.sign) headers["stripe-signature"] = stripeSignatureHeader(this.opts.stripeSecret(), p.body, Math.floor(this.now() / 1000));
      let status: DeliveryRecord["status"];
      try {
        const res = await fetch(p.url, { method: "POST", headers, body: p.body, signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = "network_error";
      }
      if (this.stopped) return; // a stopping sandbox keeps the delivery pending for its next start
      const now = this.now();
      this.log.push({ url: p.url, id: p.id, type: p.type, status, attempt, at: Date.now(), clockAt: now });
      if (typeof status === "number" && status < 300) {
        this.pending.delete(p.key);
        return;
      }
      const next = retryAt(p.sign ? "stripe" : "daraja", attempt, p.firstAt, now);
      if (next === undefined) {
        this.pending.delete(p.key);
        return;
      }
      Object.assign(p, { attempts: attempt, nextAt: next, queued: false });
      this.pending.set(p.key, p);
    } finally {
      this.sending.delete(p.key);
      this.wake();
    }
  }

  /** Arms the timer for the earliest delivery waiting for its time (call after the clock moved). */
  wake(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let earliest = Infinity;
    for (const p of this.pending.values()) if (!p.queued && !this.sending.has(p.key)) earliest = Math.min(earliest, p.nextAt);
    if (earliest === Infinity) return;
    this.timer = setTimeout(() => this.runDue(), Math.min(Math.max(0, earliest - this.now()), MAX_TIMER_MS));
    this.timer.unref();
  }

  private runDue(): void {
    this.timer = undefined;
    const now = this.now();
    for (const p of [...this.pending.values()]) {
      if (!p.queued && !this.sending.has(p.key) && p.nextAt <= now) this.watch(this.attempt(p));
    }
    this.wake();
  }

  /** Sends every delayed notification now. */
  flushDelayed(): void {
    const now = this.now();
    for (const p of this.pending.values()) {
      if (!p.queued && p.attempts === 0 && p.nextAt > now) {
        p.nextAt = now;
        this.pending.set(p.key, p);
      }
    }
    this.runDue();
  }

  /** Deliveries not yet acknowledged (waiting for a first try, a retry, or a webhook_delay). */
  pendingDeliveries(): PendingDelivery[] {
    return [...this.pending.values()].map((p) => ({ ...p }));
  }

  /** Resolves when nothing is being sent and no quick retry is due (delayed ones and slow retries excepted). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.inFlight.size > 0) {
        await Promise.allSettled([...this.inFlight]);
        continue;
      }
      const soon = this.now() + QUICK_RETRY_WINDOW_MS;
      const waiting = [...this.pending.values()].some((p) => !this.stopped && p.attempts > 0 && p.nextAt <= soon);
      if (!waiting) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
