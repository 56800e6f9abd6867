import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateIdentity, type GeneratedIdentity } from '@snowline/avalanche';
import { sha256Hex } from '@snowline/persistence';
import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, unknown>;

const FIXTURES = join(__dirname, '..', '..', 'libs', 'avalanche', 'src', '__fixtures__');
/** AvalancheGo's local-network signer1.key and the public key / PoP a real node reports for it. */
const SIGNER1 = {
  secret: readFileSync(join(FIXTURES, 'signer1.key')),
  publicKey:
    '0x900c9b119b5c82d781d4b49be78c3fc7ae65f2b435b7ed9e3a8b9a03e475edff86d8a64827fec8db23a6f236afbf127d',
  pop: '0x8bfd6d4d2086b2b8115d8f72f94095fefe5a6c07876b2accf51a811adf520f389e74a3d2152a6d90b521e2be58ffe468043dc5ea68b4c44410eb67f8dc24f13ed4f194000764c0e922cd254a3588a4962b1cb4db7de4bb9cda9d9d4d6b03f3d2',
};
/** The BLS12-381 group order r: a secret key must be in [1, r). */
const BLS_ORDER = Buffer.from(
  '73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001',
  'hex',
);

describe('POST /v1/validators with an imported identity', () => {
  let h: ApiApp;
  /** staker.crt/key of a fresh ECDSA identity (staker1.key is not among the fixtures) + signer1.key. */
  let mine: GeneratedIdentity;
  let other: GeneratedIdentity;
  let body: { stakerCrt: string; stakerKey: string; signerKey: string };

  const counts = async () =>
    (
      (await h.repos.ds.query(
        `SELECT (SELECT count(*) FROM validators)::int AS validators,
                (SELECT count(*) FROM staking_identities)::int AS identities,
                (SELECT count(*) FROM events)::int AS events`,
      )) as Json[]
    )[0];
  const create = (identity: unknown, key?: string) =>
    h.api('/v1/validators', { method: 'POST', key, json: { network: 'fuji', identity } });

  beforeAll(async () => {
    h = await startApiApp('identity_import');
    [mine, other] = await Promise.all([generateIdentity(), generateIdentity()]);
    body = {
      stakerCrt: mine.stakerCrt,
      stakerKey: mine.stakerKey,
      signerKey: SIGNER1.secret.toString('base64'),
    };
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should import a valid identity: 202 with its NodeID, BLS public key and PoP, and no secret', async () => {
    const before = await counts();
    const res = await create(body);
    const text = await res.text();
    expect(res.status).toBe(202);
    const v = JSON.parse(text) as Json;
    expect(v).toMatchObject({
      state: 'pending',
      nodeId: mine.nodeId,
      blsPublicKey: SIGNER1.publicKey,
      proofOfPossession: SIGNER1.pop,
    });
    for (const secret of [
      body.stakerKey,
      body.signerKey,
      SIGNER1.secret.toString('hex'),
      'PRIVATE KEY',
    ]) {
      expect(text).not.toContain(secret);
    }
    const got = (await (await h.api(`/v1/validators/${v.id as string}`)).json()) as Json;
    expect(got).toMatchObject({
      nodeId: mine.nodeId,
      blsPublicKey: SIGNER1.publicKey,
      proofOfPossession: SIGNER1.pop,
    });
    const rows = (await h.repos.ds.query(
      `SELECT imported, node_id FROM staking_identities WHERE node_id = $1`,
      [mine.nodeId],
    )) as Json[];
    expect(rows).toEqual([{ imported: true, node_id: mine.nodeId }]);
    expect(await counts()).toMatchObject({
      validators: (before!.validators as number) + 1,
      identities: (before!.identities as number) + 1,
    });
  });

  it('should answer 409 to the same identity again, in the same project or another, and write nothing', async () => {
    const tenant = await h.tenant('second', ['admin']);
    const before = await counts();
    for (const key of [undefined, tenant.key]) {
      const res = await create(body, key);
      expect(res.status).toBe(409);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as Json).detail).toMatch(/already held by a validator/);
    }
    // The NodeID alone decides: the same cert/key with another signer key is the same validator.
    const res = await create({ ...body, signerKey: other.signerKey.toString('base64') });
    expect(res.status).toBe(409);
    expect(await counts()).toEqual(before);
  });

  it('should answer 4 concurrent imports of one identity with one 202 and three 409s, one row', async () => {
    const fresh = await generateIdentity();
    const identity = {
      stakerCrt: fresh.stakerCrt,
      stakerKey: fresh.stakerKey,
      signerKey: fresh.signerKey.toString('base64'),
    };
    const before = await counts();
    const answers = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const res = await create(identity);
        return { status: res.status, body: (await res.json()) as Json };
      }),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409, 409]);
    for (const a of answers.filter((x) => x.status === 409)) {
      expect(a.body.detail).toBe(
        `The staking identity ${fresh.nodeId} is already held by a validator.`,
      );
    }
    const rows = (await h.repos.ds.query(
      `SELECT count(*)::int AS n FROM staking_identities WHERE node_id = $1`,
      [fresh.nodeId],
    )) as { n: number }[];
    expect(rows[0]!.n).toBe(1);
    const after = await counts();
    expect(after).toMatchObject({
      validators: (before!.validators as number) + 1,
      identities: (before!.identities as number) + 1,
    });
  });

  const garbage: ['stakerCrt' | 'stakerKey' | 'signerKey', string, () => Json][] = [
    ['stakerCrt', 'a cert that is not PEM', () => ({ stakerCrt: 'hello' })],
    [
      'stakerCrt',
      'a PEM cert with a broken body',
      () => ({
        stakerCrt: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      }),
    ],
    ['stakerCrt', 'a cert given as the key', () => ({ stakerCrt: body.stakerKey })],
    ['stakerKey', 'a key that is not PEM', () => ({ stakerKey: 'not a key' })],
    [
      'stakerKey',
      'a PEM key with a broken body',
      () => ({ stakerKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }),
    ],
    ['stakerKey', 'the key of another identity', () => ({ stakerKey: other.stakerKey })],
    ['signerKey', 'a signer key that is not base64', () => ({ signerKey: 'not base64 !!' })],
    ['signerKey', 'an empty signer key', () => ({ signerKey: '' })],
    [
      'signerKey',
      'a 31-byte signer key',
      () => ({ signerKey: SIGNER1.secret.subarray(0, 31).toString('base64') }),
    ],
    [
      'signerKey',
      'a 33-byte signer key',
      () => ({ signerKey: Buffer.concat([SIGNER1.secret, Buffer.of(1)]).toString('base64') }),
    ],
    ['signerKey', 'a zero signer key', () => ({ signerKey: Buffer.alloc(32).toString('base64') })],
    [
      'signerKey',
      'a signer key not below the group order',
      () => ({ signerKey: BLS_ORDER.toString('base64') }),
    ],
  ];

  it.each(garbage)(
    'should answer 400 naming identity.%s for %s, and write nothing',
    async (field, _what, patch) => {
      const before = await counts();
      // A fresh, otherwise valid identity each time, so only the garbage can be the reason.
      const fresh = await generateIdentity();
      const res = await create({
        stakerCrt: fresh.stakerCrt,
        stakerKey: fresh.stakerKey,
        signerKey: fresh.signerKey.toString('base64'),
        ...patch(),
      });
      const problem = (await res.json()) as Json;
      expect({ status: res.status, field: problem.field }).toEqual({
        status: 400,
        field: `identity.${field}`,
      });
      expect(problem.detail).toMatch(new RegExp(`^identity\\.${field}: `));
      expect(await counts()).toEqual(before);
    },
  );

  it.each(['stakerCrt', 'stakerKey', 'signerKey'])(
    'should answer 400 naming identity.%s when it is missing or not a string',
    async (field) => {
      const before = await counts();
      for (const value of [undefined, 42]) {
        const res = await create({ ...body, [field]: value });
        expect(res.status).toBe(400);
        expect(((await res.json()) as Json).detail).toContain(`identity.${field}`);
      }
      expect(await counts()).toEqual(before);
    },
  );

  it("should import a retired validator's identity again, its keys waiting for the former holder", async () => {
    const fresh = await generateIdentity();
    const keys = {
      stakerCrt: fresh.stakerCrt,
      stakerKey: fresh.stakerKey,
      signerKey: fresh.signerKey.toString('base64'),
    };
    const first = (await (await create(keys)).json()) as { id: string };
    expect((await create(keys)).status).toBe(409); // live: held
    // Retiring is not retired: its hosts may still run the identity.
    await h.repos.ds.query(`UPDATE validators SET state = 'retiring' WHERE id = $1`, [first.id]);
    expect((await create(keys)).status).toBe(409);
    // Its last host is still up (pending deletion), its lease a minute from running out.
    const oldToken = randomBytes(32).toString('base64url');
    const oldHost = await h.repos.hosts.insert({
      role: 'assigned',
      validatorId: first.id,
      zone: 'cn-hongkong-b',
      instanceType: 'ecs.g7.2xlarge',
      clientToken: `sl-${randomUUID()}`,
      instanceId: `i-old${randomBytes(6).toString('hex')}`,
      bootstrapTokenHash: sha256Hex(oldToken),
      agentProtocol: 1,
      generation: 1,
      leaseExpiresAt: new Date(Date.now() + 60_000),
    });
    await h.repos.ds.query(`UPDATE validators SET state = 'retired' WHERE id = $1`, [first.id]);

    const again = await create(keys);
    expect(again.status).toBe(202);
    const second = (await again.json()) as { id: string; nodeId: string };
    expect(second.nodeId).toBe(fresh.nodeId);
    const rows = (await h.repos.ds.query(
      `SELECT superseded_at IS NOT NULL AS superseded FROM staking_identities WHERE node_id = $1 ORDER BY created_at`,
      [fresh.nodeId],
    )) as { superseded: boolean }[];
    expect(rows).toEqual([{ superseded: true }, { superseded: false }]);
    expect((await create(keys)).status).toBe(409); // held again

    // The new validator's host asks for the keys: the other validator's host may still run them.
    const token = randomBytes(32).toString('base64url');
    const host = await h.repos.hosts.insert({
      role: 'assigned',
      validatorId: second.id,
      zone: 'cn-hongkong-c',
      instanceType: 'ecs.g7.2xlarge',
      clientToken: `sl-${randomUUID()}`,
      instanceId: `i-new${randomBytes(6).toString('hex')}`,
      bootstrapTokenHash: sha256Hex(token),
      agentProtocol: 1,
      generation: 1,
    });
    await h.repos.ds.query(
      `UPDATE validators SET state = 'provisioning', host_id = $2, generation = 1 WHERE id = $1`,
      [second.id, host.id],
    );
    const ask = () =>
      h.api('/v1/agent/keys', {
        method: 'POST',
        key: null,
        headers: { authorization: `Bearer ${token}` },
        json: { hostId: host.id, generation: 1 },
      });
    expect((await ask()).status).toBe(425);
    await h.repos.hosts.update(oldHost.id, { leaseExpiresAt: new Date(Date.now() - 3_600_000) });
    const granted = await ask();
    expect(granted.status).toBe(200);
    expect(((await granted.json()) as { stakerCrt: string }).stakerCrt).toBe(fresh.stakerCrt);
  });
});
