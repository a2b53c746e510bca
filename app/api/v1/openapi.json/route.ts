import { env } from "@/server/env.js";
import { otherMethods } from "@/server/http/route-fallbacks";
import { buildOpenApiDocument } from "@/server/payments/openapi";

// Public on purpose: the API description.
export function GET() {
  return Response.json(buildOpenApiDocument(env.APP_URL));
}
export const HEAD = GET;

const other = otherMethods(["GET"]);
export const POST = other.POST;
export const PUT = other.PUT;
export const PATCH = other.PATCH;
export const DELETE = other.DELETE;
export const OPTIONS = other.OPTIONS;
