import { randomBytes, randomUUID } from 'node:crypto';
import type Ecs20140526 from '@alicloud/ecs20140526';
import * as $Ecs from '@alicloud/ecs20140526';
import {
  hostPublicKeys,
  instanceIdentityAudience,
  keyFingerprint,
  type HostKeys,
} from '@snowline/agent';
import { sha256Hex, type HostEntity, type Repositories } from '@snowline/persistence';

/**
 * A host row as the worker writes one (agent protocol 2: a random bootstrap token, armed), with an
 * instance that really runs in the simulator (launched through the real SDK with that UserData) —
 * what the agent-protocol suites drive by hand, speaking for the agent.
 */
export async function launchProtocol2Host(
  ecs: Ecs20140526,
  simUrl: string,
  api: { url: string; repos: Repositories },
): Promise<{ host: HostEntity; token: string; instanceId: string }> {
  const id = randomUUID();
  const token = randomBytes(32).toString('base64url');
  const userData = JSON.stringify({
    snowline: 2,
    controlPlaneUrl: api.url,
    hostId: id,
    bootstrapToken: token,
  });
  const run = await ecs.runInstances(
    new $Ecs.RunInstancesRequest({
      regionId: 'cn-hongkong',
      zoneId: 'cn-hongkong-b',
      instanceType: 'ecs.g7.2xlarge',
      imageId: 'ubuntu_24_04_x64_20G_alibase_20250101.vhd',
      vSwitchId: 'vsw-sim-b',
      securityGroupId: 'sg-sim-default',
      amount: 1,
      userData: Buffer.from(userData).toString('base64'),
    }),
  );
  const instanceId = run.body!.instanceIdSets!.instanceIdSet![0];
  const host = await api.repos.hosts.insert({
    id,
    role: 'standby',
    zone: 'cn-hongkong-b',
    network: 'fuji',
    instanceType: 'ecs.g7.2xlarge',
    clientToken: `sl-${id}`,
    instanceId,
    bootstrapTokenHash: sha256Hex(token),
    bootstrapTokenSealed: Buffer.from('sealed elsewhere'),
    agentProtocol: 2,
  });
  await api.repos.hosts.armBootstrapToken(id, 600);
  // The metadata service answers once the instance runs.
  for (let i = 0; i < 100; i++) {
    const r = await fetch(
      `${simUrl}/_sim/instances/${instanceId}/metadata/latest/meta-data/instance-id`,
    );
    if (r.status === 200) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  return { host, token, instanceId };
}

/** What a process on the instance gets from the metadata service, for its key's audience. */
export async function instanceIdentityFor(
  simUrl: string,
  keys: HostKeys,
  hostId: string,
  instanceId: string,
): Promise<{ document: string; pkcs7: string }> {
  const base = `${simUrl}/_sim/instances/${instanceId}/metadata/latest/dynamic/instance-identity`;
  const audience = instanceIdentityAudience(
    hostId,
    keyFingerprint(hostPublicKeys(keys).signingKey),
  );
  const [document, pkcs7] = await Promise.all([
    fetch(`${base}/document`).then((r) => r.text()),
    fetch(`${base}/pkcs7?audience=${encodeURIComponent(audience)}`).then((r) => r.text()),
  ]);
  return { document, pkcs7 };
}
