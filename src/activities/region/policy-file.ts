// Reads the region policy from a JSON file, so that operators change the rules without a new build.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { findPolicyProblems, POLICY_HINT, type RegionPolicy } from './policy';

/**
 * `config/region-policy.json` at the package root. The path is the same from `src/activities/region`
 * under tsx and from `dist/activities/region` in a build.
 */
export const DEFAULT_REGION_POLICY_FILE = path.resolve(__dirname, '../../../config/region-policy.json');

const POLICY_KEYS = new Set(['allowedRegions', 'continentRegions', 'countryRegions', 'defaultRegion', 'fallback']);

/** Reads and validates a policy file. Throws an Error that names the file and every problem in it. */
export async function loadRegionPolicyFile(file: string): Promise<RegionPolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Failed to read the region policy file ${file}: ${detail}. ` +
        'Set REGION_POLICY_FILE to a readable JSON file, or unset it to use config/region-policy.json.',
      { cause: error },
    );
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`Invalid region policy file ${file}: not valid JSON (${detail}).`, { cause: error });
  }

  const problems = findFileProblems(value);
  if (problems.length > 0) {
    throw new Error(`Invalid region policy file ${file}: ${problems.join('; ')}. ${POLICY_HINT}`);
  }
  return value as RegionPolicy;
}

function findFileProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return ['expected a JSON object with allowedRegions, continentRegions, countryRegions, defaultRegion and fallback'];
  }

  // Unknown and missing keys are errors, because a misspelt key would otherwise drop a rule silently.
  const problems: string[] = [];
  for (const key of Object.keys(value)) {
    if (!POLICY_KEYS.has(key)) {
      problems.push(`unknown key ${JSON.stringify(key)}`);
    }
  }
  for (const key of POLICY_KEYS) {
    if (!Object.hasOwn(value, key)) {
      problems.push(`missing key ${JSON.stringify(key)}`);
    }
  }
  return [...problems, ...findPolicyProblems(value as RegionPolicy)];
}
