import { z } from "zod";

export const MERCHANT_NAME_MAX = 120;

export const ZUpdateMerchantInputSchema = z.object({
  name: z.string().trim().min(1, "Name is required").max(MERCHANT_NAME_MAX, `Name must be at most ${MERCHANT_NAME_MAX} characters`),
});
export type TUpdateMerchantInputSchema = z.infer<typeof ZUpdateMerchantInputSchema>;
