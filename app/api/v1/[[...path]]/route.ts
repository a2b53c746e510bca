import { noSuchRoute } from "@/server/http/route-fallbacks";

// Any /api/v1 path no other route serves: a JSON 404 in the API's error shape, for every method.
export const GET = noSuchRoute;
export const HEAD = noSuchRoute;
export const POST = noSuchRoute;
export const PUT = noSuchRoute;
export const PATCH = noSuchRoute;
export const DELETE = noSuchRoute;
export const OPTIONS = noSuchRoute;
