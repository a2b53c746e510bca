// How a PSP is named to people: the rail the buyer used, not our connector's name.
const LABELS: Record<string, string> = { stripe: "Card (Stripe)", mpesa: "M-Pesa" };

export function pspLabel(psp: string): string {
  return LABELS[psp] ?? psp;
}
