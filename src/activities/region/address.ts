// Turns the client IP text that Clerk reports into an address that is safe to look up.
import ipaddr from 'ipaddr.js';

export const AddressRejection = {
  MISSING: 'ip-missing',
  INVALID: 'ip-invalid',
  NOT_PUBLIC: 'ip-not-public',
} as const;
export type AddressRejection = (typeof AddressRejection)[keyof typeof AddressRejection];

export type AddressResult = { ok: true; address: string } | { ok: false; reason: AddressRejection };

// The longest valid address text is 45 characters (IPv6 with an embedded IPv4 part). Brackets and
// a zone id add a few more, so 100 leaves room and keeps long junk away from the parser.
const MAX_INPUT_LENGTH = 100;

// IANA assigns global unicast addresses only from 2000::/3 (IANA IPv6 Address Space registry,
// RFC 4291). ipaddr.js 2.5 still reports the rest of the IETF-reserved space as `unicast`.
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

/**
 * Normalizes a client IP and accepts it only when it is a public unicast address.
 * Non-public addresses are rejected because country databases assign countries to some reserved
 * ranges, such as 6to4 and Teredo.
 */
export function normalizeAddress(input: unknown): AddressResult {
  if (input === undefined || input === null) {
    return { ok: false, reason: AddressRejection.MISSING };
  }
  if (typeof input !== 'string') {
    return { ok: false, reason: AddressRejection.INVALID };
  }

  const text = input.trim();
  if (text === '') {
    return { ok: false, reason: AddressRejection.MISSING };
  }
  if (text.length > MAX_INPUT_LENGTH) {
    return { ok: false, reason: AddressRejection.INVALID };
  }

  const parsed = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
  if (parsed === undefined) {
    return { ok: false, reason: AddressRejection.INVALID };
  }
  if (!isPublicUnicast(parsed)) {
    return { ok: false, reason: AddressRejection.NOT_PUBLIC };
  }
  return { ok: true, address: parsed.toString() };
}

// Only the dotted four-part decimal form is accepted, because ipaddr.js also parses forms such as
// `1.2.3`, `0x8.8.8.8`, `010.0.0.1` (octal) and `134744072` that no proxy reports as a client IP.
function parseIpv4(text: string): ipaddr.IPv4 | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return undefined;
  }
  return ipaddr.IPv4.parse(text);
}

function parseIpv6(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const unbracketed = stripBrackets(text);
  if (unbracketed === undefined) {
    return undefined;
  }

  const withoutZone = stripZoneId(unbracketed);
  if (withoutZone === undefined || !ipaddr.IPv6.isValid(withoutZone)) {
    return undefined;
  }

  // An embedded IPv4 part, as in `::ffff:8.8.8.8`, gets the same four-part decimal rule.
  if (withoutZone.includes('.')) {
    const embedded = withoutZone.slice(withoutZone.lastIndexOf(':') + 1);
    if (!ipaddr.IPv4.isValidFourPartDecimal(embedded)) {
      return undefined;
    }
  }

  const address = ipaddr.IPv6.parse(withoutZone);

  // The DB-IP database has no records under ::ffff:0:0/96, so a mapped address is looked up as IPv4.
  // ipaddr.js also parses the deprecated IPv4-compatible form `::a.b.c.d` as a mapped address.
  return address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

// Accepts `[2001:db8::1]` but not `[2001:db8::1]:443`, because a port means the caller passed
// a socket address rather than an IP.
function stripBrackets(text: string): string | undefined {
  const opens = text.startsWith('[');
  const closes = text.endsWith(']');
  if (opens !== closes) {
    return undefined;
  }
  return opens ? text.slice(1, -1) : text;
}

// A zone id (`fe80::1%eth0`) names a local interface and has no bearing on where the address is.
function stripZoneId(text: string): string | undefined {
  const percent = text.indexOf('%');
  if (percent === -1) {
    return text;
  }
  const zoneId = text.slice(percent + 1);
  if (!/^[A-Za-z0-9._~-]+$/.test(zoneId)) {
    return undefined;
  }
  return text.slice(0, percent);
}

function isPublicUnicast(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (address.range() !== 'unicast') {
    return false;
  }
  if (address instanceof ipaddr.IPv6) {
    return address.match(IPV6_GLOBAL_UNICAST);
  }
  return true;
}
