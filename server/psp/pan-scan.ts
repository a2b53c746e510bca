// Finds card numbers (PANs) in text: runs of 13–19 digits, optionally split by single spaces or dashes,
// that pass the Luhn check and start like a card network's number (3–6, or Mastercard's 2221–2720), so
// unix-millisecond and YYYYMMDDhhmmss timestamps are not mistaken for cards. Used by tests that prove no card number reaches our logs or database; the
// checkout e2e reuses it.

const CANDIDATE = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function hasCardPrefix(digits: string): boolean {
  if (/^[3-6]/.test(digits)) return true;
  const four = Number(digits.slice(0, 4));
  return four >= 2221 && four <= 2720;
}

/** Every Luhn-valid 13–19 digit number in `text` (separators removed), in order of appearance. */
/**
 * Hex digests (SHA-256 ledger hashes, signatures, the 16-character body digests in Daraja event ids): a digit
 * run inside a hex token this long that also holds a letter a-f is no card (a card number is all digits).
 */
export const HEX_DIGEST_MIN_CHARS = 16;
const HEX = /[0-9a-fA-F]/;

function insideHexDigest(text: string, start: number, end: number): boolean {
  if (/[ -]/.test(text.slice(start, end))) return false;
  let a = start;
  let b = end;
  while (a > 0 && HEX.test(text[a - 1]!)) a--;
  while (b < text.length && HEX.test(text[b]!)) b++;
  return b - a >= HEX_DIGEST_MIN_CHARS && /[a-fA-F]/.test(text.slice(a, b));
}

export function findPans(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(CANDIDATE)) {
    if (insideHexDigest(text, m.index, m.index + m[0].length)) continue;
    const digits = m[0].replace(/[ -]/g, "");
    // Skip all-same-digit runs (000…0 is Luhn-valid but no card): they are ids and padding, not PANs.
    if (digits.length >= 13 && digits.length <= 19 && hasCardPrefix(digits) && luhnValid(digits) && !/^(\d)\1+$/.test(digits)) found.push(digits);
  }
  return found;
}
