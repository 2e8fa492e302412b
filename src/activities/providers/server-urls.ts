// Parser for POSTGRES_URLS, which maps regions to Postgres servers. Messages never quote a URL, because URLs
// contain passwords.
import { REGION_PATTERN } from '../../shared';

/** Key of the entry that serves every region without an entry of its own. */
export const DEFAULT_SERVER_KEY = '*';

/**
 * Parses a region-to-URL map, written either as a JSON object (`{"eu-west-1": "postgres://...", "*": "..."}`) or
 * as comma-separated `region=url` pairs (`eu-west-1=postgres://...,*=postgres://...`). A URL that contains a comma
 * must be percent-encoded or written in the JSON form. Throws an Error that names the bad entry.
 */
export function parseServerUrls(value: string): Record<string, string> {
  const trimmed = value.trim();
  const isJson = trimmed.startsWith('{') || trimmed.startsWith('[');
  const entries = isJson ? parseJsonEntries(trimmed) : parsePairs(trimmed);

  const servers: Record<string, string> = {};
  for (const [key, url] of entries) {
    if (key !== DEFAULT_SERVER_KEY && !REGION_PATTERN.test(key)) {
      throw new Error(`invalid region ${JSON.stringify(key)}: use a region such as eu-west-1, or * for the default`);
    }
    if (Object.hasOwn(servers, key)) throw new Error(`region ${key} appears twice`);
    checkPostgresUrl(key, url);
    servers[key] = url;
  }

  if (Object.keys(servers).length === 0) throw new Error('expected at least one region=url pair');
  return servers;
}

function parseJsonEntries(text: string): [string, string][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('invalid JSON: expected an object such as {"eu-west-1": "postgres://..."}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('expected a JSON object that maps regions to URLs');
  }

  return Object.entries(parsed).map(([key, url]) => {
    if (typeof url !== 'string') throw new Error(`the URL of ${key} must be a string`);
    return [key, url.trim()];
  });
}

function parsePairs(text: string): [string, string][] {
  return text.split(',').map((pair, index) => {
    const separator = pair.indexOf('=');
    if (separator < 1) throw new Error(`entry ${index + 1} is not region=url`);
    return [pair.slice(0, separator).trim(), pair.slice(separator + 1).trim()];
  });
}

function checkPostgresUrl(key: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`the URL of ${key} is invalid: expected postgres://user:password@host:port/database`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`the URL of ${key} must start with postgres:// or postgresql://`);
  }
  if (url.hostname === '') throw new Error(`the URL of ${key} has no host`);
}
