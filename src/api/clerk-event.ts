// Parsing of Clerk webhook bodies, after the signature over the raw bytes has been checked.
import { CLERK_USER_ID_PATTERN, type RegionRequest } from '../shared';

/** Default key in a user's `public_metadata` that contains the region they chose; REGION_METADATA_KEY sets another. */
export const REGION_METADATA_KEY = 'dataRegion';

export type ParsedEvent =
  | { kind: 'user.created'; userId: string; region: RegionRequest }
  | { kind: 'user.deleted'; userId: string }
  | { kind: 'other'; type: string };

export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringAt(value: unknown, ...keys: string[]): string | undefined {
  let current = value;
  for (const key of keys) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return typeof current === 'string' ? current : undefined;
}

/** Parses a Clerk event envelope; throws InvalidEventError with a message safe to return to the sender. */
export function parseClerkEvent(rawBody: Buffer, regionMetadataKey = REGION_METADATA_KEY): ParsedEvent {
  let text = rawBody.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    throw new InvalidEventError('invalid JSON');
  }
  if (!isRecord(event) || typeof event.type !== 'string' || !isRecord(event.data)) {
    throw new InvalidEventError('not a Clerk event: expected an object with "type" and "data"');
  }

  const data = event.data;
  if (event.type !== 'user.created' && event.type !== 'user.deleted') {
    return { kind: 'other', type: event.type };
  }

  const userId = data.id;
  if (typeof userId !== 'string' || !CLERK_USER_ID_PATTERN.test(userId)) {
    throw new InvalidEventError('invalid data.id: expected a Clerk user id such as user_2pQfEu...');
  }
  if (event.type === 'user.deleted') return { kind: 'user.deleted', userId };

  return {
    kind: 'user.created',
    userId,
    region: {
      clientIp: stringAt(event, 'event_attributes', 'http_request', 'client_ip'),
      requestedRegion: stringAt(data, 'public_metadata', regionMetadataKey),
    },
  };
}
