import { getDb } from "@/db";
import { createPaymentRoute } from "@/server/payments/routes";

export const POST = createPaymentRoute(getDb);
