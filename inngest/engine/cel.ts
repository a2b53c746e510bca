import { parse, run } from "@bufbuild/cel";

// CEL expressions of triggers (`if`), waitForEvent / cancelOn matches (`event` = the run's trigger event,
// `async` = the incoming event), idempotency and concurrency keys. Evaluation errors (a missing field,
// a type mismatch) mean "no match", as in Inngest.

type CelValue = Parameters<typeof run>[1] extends Record<string, infer V> | undefined ? V : never;

function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (value && typeof value === "object") return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  return value;
}

function evaluate(expression: string, vars: Record<string, unknown>): unknown {
  const bound: Record<string, CelValue> = {};
  for (const [k, v] of Object.entries(vars)) bound[k] = toCel(v) as CelValue;
  try {
    const result = run(expression, bound);
    return result instanceof Error ? undefined : result;
  } catch {
    return undefined;
  }
}

export function celMatches(expression: string | null | undefined, vars: Record<string, unknown>): boolean {
  if (!expression) return true;
  return evaluate(expression, vars) === true;
}

/** A key expression's value as a string; undefined when it does not evaluate to a scalar. */
export function celKey(expression: string, vars: Record<string, unknown>): string | undefined {
  const v = evaluate(expression, vars);
  if (typeof v === "string" || typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  return undefined;
}

/** Parse errors, for refusing a bad expression at registration rather than at the first event. */
export function celSyntaxError(expression: string): string | undefined {
  try {
    const r: unknown = parse(expression);
    return r instanceof Error ? r.message : undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
