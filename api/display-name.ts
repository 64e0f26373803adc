/**
 * Display names as every client will render them: NFC-normalised, trimmed, 1–40 code points, and free of
 * characters that can disguise or break a UI: control characters (NUL, BEL, …), format characters such
 * as bidi overrides (U+202E) and isolates, line/paragraph separators, and `<` `>` (so a name can never be
 * mistaken for markup). Zero-width joiner and non-joiner stay allowed: emoji sequences and Persian and
 * Indic scripts need them.
 */
export const MAX_DISPLAY_NAME = 40;

const FORBIDDEN = /[\p{Cc}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}<>]|(?![\u200c\u200d])\p{Cf}/u;

/** The normalised name, or the reason it is refused. */
export function normaliseDisplayName(raw: string): { ok: true; name: string } | { ok: false; reason: string } {
  const name = raw.normalize('NFC').trim();
  if (name.length === 0) return { ok: false, reason: 'display name must not be empty or only white space' };
  if ([...name].length > MAX_DISPLAY_NAME) return { ok: false, reason: `display name is limited to ${MAX_DISPLAY_NAME} characters` };
  if (FORBIDDEN.test(name)) return { ok: false, reason: 'display name contains a control, formatting or markup character' };
  return { ok: true, name };
}
