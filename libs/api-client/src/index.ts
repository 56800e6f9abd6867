import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './schema';

export type { components, operations, paths } from './schema';

/** A fetch client typed by the API's OpenAPI document (schema.ts, from `npm run openapi:generate`). */
export type SnowlineClient = Client<paths>;

export function createSnowlineClient(
  baseUrl: string,
  opts: { key?: string; fetch?: typeof fetch } = {},
): SnowlineClient {
  return createClient<paths>({
    baseUrl,
    headers: opts.key ? { authorization: `Bearer ${opts.key}` } : {},
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
}
export { compareStakingRisk, stakingRiskGroup, type StakingBlock } from './staking';
