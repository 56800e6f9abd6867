import { subnetIdProblem } from '@snowline/domain';
import { badRequest } from '../common/problem';

/**
 * An L1 validator's subnet id as the API takes it: absent or null is the primary network; anything
 * else must be an L1's id as AvalancheGo parses ids (cb58 of 32 bytes with its checksum, not the
 * primary network's: libs/domain l1.ts subnetIdProblem), or the caller gets a 400 that says why.
 */
export function checkSubnetId(id: string | null | undefined, field = 'subnetId'): string | null {
  if (id === undefined || id === null) return null;
  const problem = subnetIdProblem(id);
  if (problem) throw badRequest(`${field}: ${JSON.stringify(id)} ${problem}.`);
  return id;
}
