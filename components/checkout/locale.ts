// The buyer's locale for formatting amounts (pure: the page reads Accept-Language on the server and hands the
// result to the client, so the server render and the browser format with the same locale: no hydration mismatch).

/** What the checkout formats with when the buyer's browser names nothing this runtime knows. */
export const DEFAULT_BUYER_LOCALE = "en-US";
/** Longest Accept-Language header read, and the most language ranges tried. */
const ACCEPT_LANGUAGE_MAX = 512;
const RANGES_MAX = 8;

/** The first language range of Accept-Language (highest q first) that Intl can format numbers in. */
export function buyerLocale(acceptLanguage: string | null | undefined): string {
  if (!acceptLanguage) return DEFAULT_BUYER_LOCALE;
  const ranges = acceptLanguage
    .slice(0, ACCEPT_LANGUAGE_MAX)
    .split(",")
    .slice(0, RANGES_MAX)
    .map((part, i) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((r) => /^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$/.test(r.tag) && r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    try {
      const [supported] = Intl.NumberFormat.supportedLocalesOf(r.tag);
      if (supported) return supported;
    } catch {
      // A malformed tag: try the next range.
    }
  }
  return DEFAULT_BUYER_LOCALE;
}
