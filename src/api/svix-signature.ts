// Svix signs Clerk's webhooks with the Standard Webhooks scheme: svix-signature contains space-separated
// `v1,<base64 HMAC-SHA256>` entries over `${svix-id}.${svix-timestamp}.${raw body}`, keyed with the base64
// part of a `whsec_` secret. Several entries appear while Clerk rotates its secret.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Receivers reject timestamps further than this from their clock, which bounds replays of a captured request. */
export const SVIX_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = 'whsec_';

export type SvixVerdict = 'valid' | 'missing' | 'invalid' | 'timestamp-invalid' | 'timestamp-outside-tolerance';

export interface SvixHeaders {
  id?: string;
  timestamp?: string;
  signature?: string;
}

/** Decodes a `whsec_...` secret into its HMAC key; throws on a malformed one, which is a configuration error. */
export function decodeSvixSecret(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new Error('expected whsec_ followed by base64');
  const key = Buffer.from(encoded, 'base64');
  if (key.length < 16) throw new Error('the decoded key is shorter than 16 bytes');
  return key;
}

export function signSvix(key: Buffer, id: string, timestamp: string, rawBody: Buffer | string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(rawBody).digest('base64');
  return `v1,${mac}`;
}

/** Checks the timestamp against `nowSeconds`, then each v1 entry against each key, in constant time per pair. */
export function verifySvixSignature(
  rawBody: Buffer,
  headers: SvixHeaders,
  keys: readonly Buffer[],
  nowSeconds = Math.floor(Date.now() / 1000),
): SvixVerdict {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return 'missing';

  if (!/^\d{1,15}$/.test(timestamp)) return 'timestamp-invalid';
  if (Math.abs(nowSeconds - Number(timestamp)) > SVIX_TOLERANCE_SECONDS) return 'timestamp-outside-tolerance';

  // Entries of other versions are skipped, so that a future scheme can be added beside v1.
  const candidates = signature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry));

  for (const key of keys) {
    const expected = Buffer.from(signSvix(key, id, timestamp, rawBody));
    for (const candidate of candidates) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return 'valid';
    }
  }
  return 'invalid';
}
