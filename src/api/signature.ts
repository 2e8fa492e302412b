// Hookdeck signs each delivery to a destination with base64(HMAC-SHA256(signing secret, raw body)) in
// x-hookdeck-signature. While a rotated secret is still valid, x-hookdeck-signature-2 carries the
// signature made with the other secret, and a match on either header is enough.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const HOOKDECK_SIGNATURE_HEADERS = ['x-hookdeck-signature', 'x-hookdeck-signature-2'] as const;

export type SignatureVerdict = 'valid' | 'missing' | 'invalid';

export function signHookdeck(rawBody: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

/** Checks the signature headers against the raw body in constant time per header. */
export function verifyHookdeckSignature(
  rawBody: Buffer,
  signatures: ReadonlyArray<string | undefined>,
  secret: string,
): SignatureVerdict {
  const present = signatures.filter((value): value is string => typeof value === 'string' && value.length > 0);
  if (present.length === 0) return 'missing';

  const expected = Buffer.from(signHookdeck(rawBody, secret));
  const matches = present.map((value) => {
    const candidate = Buffer.from(value.trim());
    // timingSafeEqual needs equal lengths; a length mismatch already shows the value is not our signature.
    return candidate.length === expected.length && timingSafeEqual(candidate, expected);
  });
  return matches.includes(true) ? 'valid' : 'invalid';
}
