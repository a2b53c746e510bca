import { getDb } from "@/db";
import { otherMethods } from "@/server/http/route-fallbacks";
import { getRefundRoute } from "@/server/refunds/routes";

export const GET = getRefundRoute(getDb);
export const HEAD = GET;

const other = otherMethods(["GET"]);
export const POST = other.POST;
export const PUT = other.PUT;
export const PATCH = other.PATCH;
export const DELETE = other.DELETE;
export const OPTIONS = other.OPTIONS;
