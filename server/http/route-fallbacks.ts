import { AppError } from "@/server/errors";
import { json, newRequestId } from "./api-route";
import { errorBody } from "./errors";

// What /api/v1 answers besides its handlers, in the one error shape (request id included), never Next's
// HTML 404 or empty 405:
//  - a method a route does not serve: 405 `method_not_allowed` with an Allow header (OPTIONS: 204 with Allow);
//  - a path no route serves: 404 `not_found`, "No such route: METHOD /path" (app/api/v1/[[...path]]/route.ts).
// Neither touches the database or needs an API key: they describe the API, not an account.

export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
type Handler = (req: Request) => Promise<Response>;

function errorResponse(err: AppError, extra: Record<string, string> = {}): Response {
  const requestId = newRequestId();
  return json(err.httpStatus, errorBody(err, requestId), requestId, extra);
}

/** Handlers for every method a route does not serve; `allowed` are the ones it does (HEAD comes with GET). */
export function otherMethods(allowed: readonly HttpMethod[]): Record<HttpMethod, Handler> {
  const allow = [...new Set([...allowed, ...(allowed.includes("GET") ? (["HEAD"] as const) : []), "OPTIONS" as const])];
  const allowHeader = allow.join(", ");
  const notAllowed: Handler = async (req) =>
    errorResponse(new AppError("method_not_allowed", `${req.method} is not allowed on ${new URL(req.url).pathname}; allowed: ${allowHeader}`), { allow: allowHeader });
  const options: Handler = async () => new Response(null, { status: 204, headers: { allow: allowHeader, "request-id": newRequestId(), "cache-control": "no-store" } });
  return Object.fromEntries(HTTP_METHODS.map((m) => [m, m === "OPTIONS" ? options : notAllowed])) as Record<HttpMethod, Handler>;
}

/** Every method of a path that no /api/v1 route serves. */
export async function noSuchRoute(req: Request): Promise<Response> {
  return errorResponse(new AppError("not_found", `No such route: ${req.method} ${new URL(req.url).pathname}`));
}
