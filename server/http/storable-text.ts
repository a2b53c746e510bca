import { z } from "zod";

// Text Postgres cannot store, or would store as something else than the client sent: a NUL character
// (text and jsonb refuse it) or an unpaired UTF-16 surrogate (it would be written as U+FFFD). The public
// API refuses both in its schema, so the answer names the field and nothing reaches the database.

const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const UNSTORABLE_TEXT_MESSAGE = "must not contain NUL (\\u0000) or unpaired surrogate characters";

export function isStorableText(s: string): boolean {
  return !NUL.test(s) && !LONE_SURROGATE.test(s);
}

/** A zod string that refuses text Postgres cannot store as sent. */
export function zStorableString() {
  return z.string().refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);
}
