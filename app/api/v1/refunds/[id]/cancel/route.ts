import { getDb } from "@/db";
import { otherMethods } from "@/server/http/route-fallbacks";
import { cancelRefundRoute } from "@/server/refunds/routes";

export const POST = cancelRefundRoute(getDb);

const other = otherMethods(["POST"]);
export const GET = other.GET;
export const HEAD = other.HEAD;
export const PUT = other.PUT;
export const PATCH = other.PATCH;
export const DELETE = other.DELETE;
export const OPTIONS = other.OPTIONS;
