import { env } from "@/server/env.js";
import { buildOpenApiDocument } from "@/server/payments/openapi";

// Public on purpose: the API description.
export function GET() {
  return Response.json(buildOpenApiDocument(env.APP_URL));
}
