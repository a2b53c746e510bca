import { Cron } from "croner";
import { z } from "zod";
import { celSyntaxError } from "./cel";
import { DEFAULT_RETRIES, MAX_RETRIES } from "./limits";
import { parseDurationMs } from "./time";

// Registration: what a function config may ask for. Anything the engine does not implement is refused
// loudly here, so a function never silently runs without the guarantee its author configured.

/** Inngest's defaults (limits.ts): 4 retries (5 attempts) when a function sets none, at most 20. */
export { DEFAULT_RETRIES, MAX_RETRIES };

export interface FunctionDef {
  id: string;
  name: string;
  url: string;
  triggers: { event?: string; expression?: string; cron?: string }[];
  /** retries + 1 */
  maxAttempts: number;
  idempotency?: string;
  concurrency?: { limit: number; key?: string };
  singleton?: { key?: string; mode: "skip" | "cancel" };
  cancel?: { event: string; if?: string; timeout?: string }[];
}

const SUPPORTED_KEYS = new Set(["id", "name", "triggers", "steps", "idempotency", "concurrency", "singleton", "cancel"]);
const UNSUPPORTED_HINT: Record<string, string> = {
  batchEvents: "event batching",
  rateLimit: "rate limiting",
  throttle: "throttling",
  debounce: "debounce",
  timeouts: "start/finish timeouts",
  priority: "priority",
};

const concurrencyItem = z.object({ limit: z.number().int().min(1), key: z.string().optional(), scope: z.string().optional() }).strict();
const rawConfigSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().optional(),
    triggers: z.array(z.record(z.string(), z.unknown())),
    steps: z.record(
      z.string(),
      z.object({
        id: z.string(),
        name: z.string().optional(),
        runtime: z.object({ type: z.string(), url: z.string().url() }),
        retries: z.object({ attempts: z.number().int().min(0).optional() }).optional(),
      }),
    ),
    idempotency: z.string().optional(),
    concurrency: z.union([z.number().int().min(1), concurrencyItem, z.array(concurrencyItem)]).optional(),
    singleton: z.object({ key: z.string().optional(), mode: z.enum(["skip", "cancel"]) }).strict().optional(),
    cancel: z.array(z.object({ event: z.string().min(1), if: z.string().optional(), timeout: z.string().optional() }).strict()).optional(),
  })
  .passthrough();

export type ValidationResult = { ok: true; fn: FunctionDef } | { ok: false; problems: string[] };

function checkExpression(problems: string[], where: string, expr: string | undefined): void {
  if (!expr) return;
  const err = celSyntaxError(expr);
  if (err) problems.push(`${where}: invalid expression ${JSON.stringify(expr)} (${err})`);
}

function normalizeConcurrency(raw: unknown, problems: string[], id: string): FunctionDef["concurrency"] {
  if (raw === undefined) return undefined;
  if (typeof raw === "number") return { limit: raw };
  const items = Array.isArray(raw) ? raw : [raw];
  if (items.length !== 1) {
    problems.push(`${id}: only one concurrency limit is supported by the local engine (got ${items.length})`);
    return undefined;
  }
  const item = items[0] as z.infer<typeof concurrencyItem>;
  if (item.scope && item.scope !== "fn") problems.push(`${id}: concurrency scope "${item.scope}" is not supported (only "fn")`);
  checkExpression(problems, `${id} concurrency.key`, item.key);
  return { limit: item.limit, key: item.key };
}

function checkTriggers(fnId: string, triggers: Record<string, unknown>[], problems: string[]): FunctionDef["triggers"] {
  const out: FunctionDef["triggers"] = [];
  for (const t of triggers) {
    if (typeof t.cron === "string") {
      if (t.jitter) problems.push(`${fnId}: cron jitter is not supported by the local engine`);
      try {
        new Cron(t.cron.replace(/^TZ=\S+\s+/, ""), { paused: true, timezone: t.cron.match(/^TZ=(\S+)\s+/)?.[1] });
      } catch (e) {
        problems.push(`${fnId}: invalid cron ${JSON.stringify(t.cron)} (${e instanceof Error ? e.message : String(e)})`);
      }
      out.push({ cron: t.cron });
    } else if (typeof t.event === "string") {
      const expression = typeof t.expression === "string" ? t.expression : undefined;
      checkExpression(problems, `${fnId} trigger`, expression);
      out.push({ event: t.event, expression });
    } else {
      problems.push(`${fnId}: unsupported trigger ${JSON.stringify(t)}`);
    }
  }
  return out;
}

/** Validates one function config from a sync; every problem is reported, not just the first. */
export function validateFunctionConfig(raw: unknown): ValidationResult {
  const parsed = rawConfigSchema.safeParse(raw);
  const rawId = (raw as { id?: unknown })?.id;
  const id = typeof rawId === "string" ? rawId : "<unknown>";
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${id}: ${i.path.join(".")}: ${i.message}`) };
  }
  const cfg = parsed.data;
  const problems: string[] = [];
  for (const [key, value] of Object.entries(cfg)) {
    if (value === undefined || value === null || SUPPORTED_KEYS.has(key)) continue;
    const what = UNSUPPORTED_HINT[key] ?? `"${key}"`;
    problems.push(`${id}: ${what} (${key}) is not supported by the local Inngest engine; remove it or run against Inngest Cloud / self-hosted Inngest`);
  }
  const step = cfg.steps.step ?? Object.values(cfg.steps)[0];
  if (!step) problems.push(`${id}: no step runtime (steps.step) in config`);
  const retries = step?.retries?.attempts ?? DEFAULT_RETRIES;
  if (retries > MAX_RETRIES) problems.push(`${id}: retries ${retries} exceeds the maximum of ${MAX_RETRIES}`);
  const triggers = checkTriggers(id, cfg.triggers, problems);
  checkExpression(problems, `${id} idempotency`, cfg.idempotency);
  checkExpression(problems, `${id} singleton.key`, cfg.singleton?.key);
  for (const c of cfg.cancel ?? []) {
    checkExpression(problems, `${id} cancelOn`, c.if);
    if (c.timeout && parseDurationMs(c.timeout) === undefined) problems.push(`${id}: cancelOn timeout ${JSON.stringify(c.timeout)} is not a duration`);
  }
  const concurrency = normalizeConcurrency(cfg.concurrency, problems, id);
  if (problems.length > 0 || !step) return { ok: false, problems };
  return {
    ok: true,
    fn: {
      id,
      name: cfg.name ?? id,
      url: step.runtime.url,
      triggers,
      maxAttempts: retries + 1,
      idempotency: cfg.idempotency,
      concurrency,
      singleton: cfg.singleton,
      cancel: cfg.cancel,
    },
  };
}
