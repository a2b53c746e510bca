// State of the Stripe side of the sandbox: in memory, and persisted (sandbox/persistence.ts) when the sandbox
// is given a database or a state file, so objects survive a restart.
// Objects are plain JSON in Stripe's wire shape; internal fields that Stripe would not send start with `_`
// and are stripped by `publicView`.
import { randomBytes } from "node:crypto";
import { Persistence, type PersistentMap } from "../persistence";
import type { CardBehavior } from "./cards";

export type StripeObject = Record<string, unknown> & { id: string; object: string; created: number };

const ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function stripeId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ID_ALPHABET[b % ID_ALPHABET.length];
  return `${prefix}_${out}`;
}

export interface PaymentMethodRecord {
  /** Never the number: just what a charge on it does. */
  behavior: CardBehavior;
}

export interface StoredResponse {
  fingerprint: string;
  status: number;
  body: unknown;
  headers: Record<string, string>;
  /** When it was stored, on the sandbox clock (s): keys expire 24 h later (IDEMPOTENCY_KEY_TTL_S). */
  at?: number;
}

/** The Set API over a persisted map. */
class PersistentSet {
  constructor(private readonly map: PersistentMap<true>) {}
  has(id: string): boolean {
    return this.map.peek(id) !== undefined;
  }
  add(id: string): this {
    this.map.set(id, true);
    return this;
  }
}

export class StripeStore {
  readonly objects: PersistentMap<StripeObject>;
  /** Creation order per object type, oldest first (lists answer newest first). */
  readonly order = new Map<string, string[]>();
  readonly paymentMethods: PersistentMap<PaymentMethodRecord>;
  /** Idempotency: `${apiKey}:${key}` -> stored response, or "in_flight" (never persisted: a restart ends the request). */
  readonly idempotency: PersistentMap<StoredResponse | "in_flight">;
  /** Balance transactions already swept into a payout. */
  readonly paidOut: PersistentSet;
  /** Uploaded files' contents (base64), by file id. */
  readonly fileContents: PersistentMap<string>;

  constructor(
    private readonly clockOffsetS: () => number,
    persistence: Persistence = new Persistence({}),
  ) {
    this.objects = persistence.map<StripeObject>("stripe_object");
    this.paymentMethods = persistence.map<PaymentMethodRecord>("stripe_payment_method");
    this.idempotency = persistence.map<StoredResponse | "in_flight">("stripe_idempotency", (v) => v !== "in_flight");
    this.paidOut = new PersistentSet(persistence.map<true>("stripe_paid_out"));
    this.fileContents = persistence.map<string>("stripe_file_content");
    // Restored objects come oldest first: rebuild the per-type creation order.
    for (const obj of this.objects.values()) {
      const list = this.order.get(obj.object) ?? [];
      list.push(obj.id);
      this.order.set(obj.object, list);
    }
  }

  nowS(): number {
    return Math.floor(Date.now() / 1000) + this.clockOffsetS();
  }

  /** Stores a new object, or marks a changed one (also after a change through a reference kept in a timer). */
  put(obj: StripeObject): StripeObject {
    if (!this.objects.has(obj.id)) {
      const list = this.order.get(obj.object) ?? [];
      list.push(obj.id);
      this.order.set(obj.object, list);
    }
    this.objects.set(obj.id, obj);
    return obj;
  }

  get(id: string, object: string): StripeObject | undefined {
    const o = this.objects.get(id);
    return o && o.object === object ? o : undefined;
  }

  /** Marks an object read through `all()` and then changed. */
  touch(obj: StripeObject): void {
    this.objects.touch(obj.id);
  }

  /** Newest first, like every Stripe list. Does not mark the objects: `touch` one that you change. */
  all(object: string): StripeObject[] {
    return (this.order.get(object) ?? []).map((id) => this.objects.peek(id)!).reverse();
  }
}

/** Drops internal `_` fields before an object leaves the sandbox. */
export function publicView(obj: StripeObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!k.startsWith("_")) out[k] = v;
  return out;
}

export const LIST_LIMIT_DEFAULT = 10;
export const LIST_LIMIT_MAX = 100;

/** Stripe cursor pagination over a newest-first array. */
export function paginate(items: StripeObject[], query: Record<string, unknown>, url: string): Record<string, unknown> {
  const limit = Math.min(Math.max(Number(query.limit ?? LIST_LIMIT_DEFAULT) || LIST_LIMIT_DEFAULT, 1), LIST_LIMIT_MAX);
  let start = 0;
  let end = items.length;
  if (typeof query.starting_after === "string") {
    const i = items.findIndex((o) => o.id === query.starting_after);
    start = i >= 0 ? i + 1 : items.length;
  } else if (typeof query.ending_before === "string") {
    const i = items.findIndex((o) => o.id === query.ending_before);
    end = i >= 0 ? i : 0;
    start = Math.max(0, end - limit);
  }
  const page = items.slice(start, Math.min(end, start + limit));
  const hasMore = typeof query.ending_before === "string" ? start > 0 : start + limit < end;
  return { object: "list", data: page.map(publicView), has_more: hasMore, url };
}

/** created[gte]=…&created[lt]=… filters (or another timestamp's: `field`, e.g. a payout's arrival_date). */
export function createdFilter(query: Record<string, unknown>, field = "created"): (o: StripeObject) => boolean {
  const c = query[field];
  if (c === undefined) return () => true;
  if (typeof c === "string") return (o) => o[field] === Number(c);
  const r = c as Record<string, string>;
  return (o) => {
    const v = o[field] as number;
    return (r.gte === undefined || v >= Number(r.gte)) && (r.gt === undefined || v > Number(r.gt)) && (r.lte === undefined || v <= Number(r.lte)) && (r.lt === undefined || v < Number(r.lt));
  };
}
