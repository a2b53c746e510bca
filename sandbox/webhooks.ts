// Outbound notifications from the sandbox: Stripe webhook events (signed like Stripe) and Daraja callbacks
// (unsigned JSON, like Daraja). At-least-once with a few quick retries; faults can duplicate, delay,
// reorder or drop them. Dropped Stripe events still appear in /v1/events, as with real Stripe.
import { createHmac } from "node:crypto";
import type { WebhookFault } from "./faults";

export const DELIVERY_ATTEMPTS_MAX = 3;
export const DELIVERY_BACKOFF_MS = 100;
export const DELIVERY_TIMEOUT_MS = 5_000;

export interface DeliveryRecord {
  url: string;
  /** Stripe event id, or the Daraja callback's identifying id. */
  id: string;
  type: string;
  status: number | "network_error" | "dropped";
  attempt: number;
  at: number;
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

export class WebhookDispatcher {
  readonly log: DeliveryRecord[] = [];
  private chain: Promise<void> = Promise.resolve();
  private readonly delayed = new Map<NodeJS.Timeout, Outgoing>();
  private inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly opts: { stripeSecret: () => string; stripeTargets: () => string[] }) {}

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
      for (const o of outs) this.log.push({ url: o.url, id: o.id, type: o.type, status: "dropped", attempt: 0, at: Date.now() });
      return;
    }
    let list = faults.some((f) => f.kind === "webhook_reorder") ? [...outs].reverse() : outs;
    if (faults.some((f) => f.kind === "webhook_duplicate")) list = list.flatMap((o) => [o, o]);
    const delay = faults.find((f) => f.kind === "webhook_delay");
    if (delay && delay.kind === "webhook_delay") {
      for (const o of list) {
        const timer = setTimeout(() => {
          this.delayed.delete(timer);
          this.enqueue([o]);
        }, delay.ms);
        this.delayed.set(timer, o);
      }
      return;
    }
    this.enqueue(list);
  }

  private enqueue(list: Outgoing[]): void {
    const p = (this.chain = this.chain.then(async () => {
      for (const o of list) await this.send(o);
    }));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async send(o: Outgoing): Promise<void> {
    for (let attempt = 1; attempt <= DELIVERY_ATTEMPTS_MAX && !this.stopped; attempt++) {
      const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "PayBridge-PSP-Sandbox/1.0" };
      if (o.sign) headers["stripe-signature"] = stripeSignatureHeader(this.opts.stripeSecret(), o.body, Math.floor(Date.now() / 1000));
      let status: DeliveryRecord["status"];
      try {
        const res = await fetch(o.url, { method: "POST", headers, body: o.body, signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = "network_error";
      }
      this.log.push({ url: o.url, id: o.id, type: o.type, status, attempt, at: Date.now() });
      if (typeof status === "number" && status < 300) return;
      await new Promise((r) => setTimeout(r, DELIVERY_BACKOFF_MS * 2 ** (attempt - 1)));
    }
  }

  /** Sends every delayed notification now. */
  flushDelayed(): void {
    for (const [timer, o] of this.delayed) {
      clearTimeout(timer);
      this.delayed.delete(timer);
      this.enqueue([o]);
    }
  }

  /** Resolves when nothing is being sent (delayed ones excepted). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.delayed.keys()) clearTimeout(timer);
    this.delayed.clear();
  }
}
