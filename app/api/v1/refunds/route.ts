import { getDb } from "@/db";
import { otherMethods } from "@/server/http/route-fallbacks";
import { createRefundRoute, listRefundsRoute } from "@/server/refunds/routes";

export const POST = createRefundRoute(getDb);
export const GET = listRefundsRoute(getDb);
export const HEAD = GET;

const other = otherMethods(["GET", "POST"]);
export const PUT = other.PUT;
export const PATCH = other.PATCH;
export const DELETE = other.DELETE;
export const OPTIONS = other.OPTIONS;
