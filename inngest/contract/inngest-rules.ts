// Inngest's classification of an SDK's answer, transcribed from inngest/inngest at the fixtures' commit
// (253303cd): pkg/execution/driver/httpdriver/httpdriver.go HandleHttpResponse + do() (L175-306, L459-470),
// util.go ShouldRetry (L45-90), parse.go ParseGenerator / ParseRetry / ParseResponse, state/opcode.go Validate,
// pkg/headers IsSDK. Used to judge the app's real answers from Inngest's side (serve.integration-test.ts); checked
// against every case of fixtures/parse-response.json (engine.test.ts), so it cannot drift from the fixtures.
// Not transcribed: 201 streamed answers (the app never streams: serveOptions), body decompression.

export const MAX_STEP_OUTPUT_SIZE = 4 * 1024 * 1024; // consts.MaxStepOutputSize
const MIN_RETRY_MS = 1_000; // consts.MinRetryDuration
const MAX_RETRY_MS = 24 * 60 * 60 * 1000; // consts.MaxRetryDuration

export type InngestClassification =
  | { kind: "completed"; output: unknown }
  | { kind: "ops"; ops: { op: string; id?: string; [k: string]: unknown }[] }
  | { kind: "error"; retriable: boolean; retryAfterMs?: number; error: string; output?: unknown };

/** golang.org/x/mod/semver for `vMAJOR.MINOR.PATCH[-pre]`: compare; undefined when not valid. */
function semverParts(v: string): [number, number, number, string] | undefined {
  const m = /^v(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] ?? ""] : undefined;
}
function semverLess(a: [number, number, number, string], b: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number);
  return a[3] !== ""; // a pre-release sorts before its release
}

/** util.go ShouldRetry. */
export function shouldRetry(status: number, noRetryHeader: string, sdkVersion: string): boolean {
  if (noRetryHeader !== "") return noRetryHeader !== "true";
  if (status < 400 || status > 499) return true;
  const parts = sdkVersion.split(":");
  if (parts.length !== 2) return true;
  const [lang, version] = parts as [string, string];
  const v = semverParts(version);
  if (!v) return true;
  if (lang === "inngest-js") {
    if (v[0] === 2 && semverLess(v, [2, 4, 1])) return false;
    if (v[0] === 1 && semverLess(v, [1, 10, 1])) return false;
  }
  return true;
}

/** parse.go ParseRetry (clamped to 1 s … 24 h), as ms from now; undefined when absent or unparseable. */
export function parseRetryMs(value: string, nowMs: number): number | undefined {
  if (value === "") return undefined;
  const nowTrunc = Math.floor(nowMs / 1000) * 1000;
  let at: number | undefined;
  if (value.length <= 7) {
    const secs = /^[+-]?\d+$/.test(value) ? Number(value) : 0; // strconv.Atoi
    if (secs > 0) at = nowTrunc + secs * 1000;
  }
  if (at === undefined) {
    const d = Date.parse(value); // dateutil.ParseString: RFC 3339, RFC 1123 and friends
    if (!Number.isFinite(d)) return undefined;
    at = d;
  }
  const dur = at - nowMs;
  if (dur > MAX_RETRY_MS) return nowTrunc + MAX_RETRY_MS - nowMs;
  if (dur < MIN_RETRY_MS) return nowTrunc + MIN_RETRY_MS - nowMs;
  return dur;
}

/** parse.go ParseResponse: the run output of a non-206 answer. */
export function parseResponse(body: string): unknown {
  if (body === "") return null;
  const tryJson = (s: string): { ok: true; v: unknown } | { ok: false } => {
    try {
      return { ok: true, v: JSON.parse(s) };
    } catch {
      return { ok: false };
    }
  };
  const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  if (body.startsWith("{")) {
    const r = tryJson(body);
    if (r.ok && isObject(r.v)) return r.v;
  }
  if (body.length >= 4 && body.startsWith('"{') && body.endsWith('}"')) {
    const s = tryJson(body);
    if (!s.ok || typeof s.v !== "string") return body;
    const o = tryJson(s.v);
    if (o.ok && isObject(o.v)) return o.v;
  }
  const r = tryJson(body);
  return r.ok ? r.v : body;
}

/** parse.go parseGenerator + ParseGenerator + GeneratorOpcode.Validate; a string is the error. */
function parseGenerator(body: string): InngestClassification & { kind: "ops" } | string {
  const trimmed = body.trim();
  if (trimmed === "") return "no response data";
  let ops: unknown[];
  try {
    if (trimmed[0] === "{") ops = [JSON.parse(trimmed)];
    else if (trimmed[0] === "[") ops = JSON.parse(trimmed) as unknown[];
    else return "error reading generator opcode response: expected JSON object or array";
  } catch (e) {
    return `error reading generator opcode response: ${(e as Error).message}`;
  }
  if (ops.length === 0) ops = [{ op: "None" }];
  for (const [i, op] of ops.entries()) {
    if (op === null) return `error validating generator opcode ${i}: opcode cannot be null`;
    const o = op as { op?: string; id?: string; data?: unknown; error?: unknown };
    if (o.op === "StepRun" && JSON.stringify({ data: o.data ?? null }).length > MAX_STEP_OUTPUT_SIZE) {
      return `error validating generator opcode ${o.id}: step output size is greater than the limit`;
    }
  }
  for (const op of ops as { op?: string; error?: unknown }[]) {
    if (op.op === "StepError" && (op.error === undefined || op.error === null)) return `OpcodeStepError received without Error field set: ${JSON.stringify(op)}`;
  }
  return { kind: "ops", ops: ops as { op: string; id?: string }[] };
}

/** httpdriver.go do() + HandleHttpResponse: how Inngest's executor takes an SDK's answer. */
export function inngestClassify(status: number, headers: Headers, body: string, nowMs: number): InngestClassification {
  const sdk = headers.get("x-inngest-sdk") ?? "";
  const isSdk = sdk !== "";
  const noRetry = !shouldRetry(status, headers.get("x-inngest-no-retry") ?? "", sdk);
  const retryAfterMs = parseRetryMs(headers.get("retry-after") ?? "", nowMs);
  // The answer's body stays the attempt's output (an SDK's serialized error: dr.StandardError() reads it).
  const error = (message: string): InngestClassification => ({ kind: "error", retriable: !noRetry, ...(retryAfterMs === undefined ? {} : { retryAfterMs }), error: message, output: parseResponse(body) });
  if (status === 206) {
    const parsed = parseGenerator(body);
    // A parse failure is a driver error: the queue retries it.
    if (typeof parsed === "string") return { kind: "error", retriable: true, error: parsed };
    if (!isSdk) return error("The response did not come from an Inngest SDK");
    return parsed;
  }
  if (status < 200 || status > 299) return error(`invalid status code: ${status}`);
  if (noRetry) return error("NonRetriableError");
  if (!isSdk) return error("The response did not come from an Inngest SDK");
  return { kind: "completed", output: parseResponse(body) };
}
