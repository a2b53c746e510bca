// Checks a Stripe wire object (as the sandbox answers it) against Stripe's own OpenAPI schema: trimmed copies of
// spec3.yaml (API version 2023-08-16) in refund-dispute-schemas.json and connect-payout-schemas.json (accounts,
// transfers, transfer reversals, payouts, balance, balance transactions; its balance_transaction supersedes the other's). No dependency: the subset of OpenAPI 3.0
// Stripe's spec uses — required keys present, no keys outside the schema, primitive types, `nullable`, enums,
// maxLength, `anyOf` (expandable fields: an id string or the object), arrays, maps (`additionalProperties`) and
// `$ref`, recursively. An expandable field whose object was trimmed away (`x-trimmed`) must come as its id.
// Test-side code: conformance tests use it; the app never validates PSP answers this way.
import connect from "./connect-payout-schemas.json";
import spec from "./refund-dispute-schemas.json";

export interface SchemaNode {
  $ref?: string;
  "x-trimmed"?: string;
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  maxLength?: number;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  additionalProperties?: SchemaNode | boolean;
}

type Schemas = Record<string, SchemaNode>;
const SCHEMAS = { ...spec.schemas, ...connect.schemas } as unknown as Schemas;

export type StripeSchemaName = keyof typeof spec.schemas | keyof typeof connect.schemas;

/** Every way `value` departs from Stripe's schema `name`, as "path: problem" lines; [] when it conforms. */
export function stripeSchemaProblems(name: StripeSchemaName, value: unknown, schemas: Schemas = SCHEMAS): string[] {
  const problems: string[] = [];
  check({ $ref: `#/components/schemas/${name}` }, value, name, schemas, problems);
  return problems;
}

function resolve(node: SchemaNode, schemas: Schemas): SchemaNode {
  let n = node;
  for (let depth = 0; n.$ref; depth++) {
    const name = n.$ref.split("/").pop()!;
    const target = schemas[name];
    if (!target || depth > 20) throw new Error(`unresolvable $ref ${n.$ref}`);
    n = target;
  }
  return n;
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function typeMatches(expected: string, v: unknown): boolean {
  const actual = typeOf(v);
  return actual === expected || (expected === "number" && actual === "integer");
}

function check(raw: SchemaNode, value: unknown, path: string, schemas: Schemas, problems: string[]): void {
  const node = resolve(raw, schemas);
  if (value === null) {
    if (!raw.nullable && !node.nullable) problems.push(`${path}: is null, which the schema does not allow`);
    return;
  }
  if (value === undefined) {
    problems.push(`${path}: is undefined`);
    return;
  }
  if (node["x-trimmed"]) {
    problems.push(`${path}: an expanded ${node["x-trimmed"]} (its schema is not kept here; expected its id)`);
    return;
  }
  if (node.anyOf) {
    checkAnyOf(node.anyOf, value, path, schemas, problems);
    return;
  }
  if (node.type && !typeMatches(node.type, value)) {
    problems.push(`${path}: is ${typeOf(value)} ${JSON.stringify(value)?.slice(0, 60)}, not ${node.type}`);
    return;
  }
  if (node.enum && !node.enum.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} is not one of ${node.enum.join(", ")}`);
  if (typeof value === "string" && node.maxLength !== undefined && value.length > node.maxLength) problems.push(`${path}: longer than ${node.maxLength}`);
  if (Array.isArray(value)) {
    if (node.items) value.forEach((item, i) => check(node.items!, item, `${path}[${i}]`, schemas, problems));
    return;
  }
  if (typeof value === "object") checkObject(node, value as Record<string, unknown>, path, schemas, problems);
}

function checkObject(node: SchemaNode, obj: Record<string, unknown>, path: string, schemas: Schemas, problems: string[]): void {
  if (node.properties) {
    for (const key of node.required ?? []) if (!(key in obj)) problems.push(`${path}.${key}: missing (required)`);
    for (const [key, v] of Object.entries(obj)) {
      const prop = node.properties[key];
      if (prop) check(prop, v, `${path}.${key}`, schemas, problems);
      else if (node.additionalProperties && typeof node.additionalProperties === "object") check(node.additionalProperties, v, `${path}.${key}`, schemas, problems);
      else problems.push(`${path}.${key}: not in Stripe's schema`);
    }
    return;
  }
  if (node.additionalProperties && typeof node.additionalProperties === "object") {
    for (const [key, v] of Object.entries(obj)) check(node.additionalProperties, v, `${path}.${key}`, schemas, problems);
  }
}

/** An id-or-object field: the alternative that fits without problems; else the problems of the closest one. */
function checkAnyOf(alternatives: SchemaNode[], value: unknown, path: string, schemas: Schemas, problems: string[]): void {
  let best: string[] | undefined;
  for (const alt of alternatives) {
    const resolved = resolve(alt, schemas);
    if (resolved.type && !typeMatches(resolved.type, value)) continue;
    if (resolved["x-trimmed"] && typeOf(value) !== "object") continue;
    // An expanded object names its kind: compare it with the alternative's `object` enum when it has one.
    const kinds = resolved.properties?.object?.enum;
    const kind = typeOf(value) === "object" ? (value as { object?: unknown }).object : undefined;
    if (kinds && kind !== undefined && !kinds.includes(kind)) continue;
    if (resolved["x-trimmed"] && kind !== undefined && kind !== resolved["x-trimmed"]) continue;
    const found: string[] = [];
    check(alt, value, path, schemas, found);
    if (found.length === 0) return;
    if (!best || found.length < best.length) best = found;
  }
  problems.push(...(best ?? [`${path}: ${typeOf(value)} ${JSON.stringify(value)?.slice(0, 60)} matches none of its alternatives`]));
}
