import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { generateIdentity, type GeneratedIdentity } from '@snowline/avalanche';
import { deriveKey, loadConfig } from '@snowline/config';
import {
  idempotencyResponseKey,
  masterKeyId,
  open,
  openResponse,
  seal,
  sealResponse,
} from '@snowline/domain';
import { createDataSource, Repositories, runMigrations } from '@snowline/persistence';
import { IdentityService } from '../../apps/api/src/identities/identity.service';
import { rotateMasterKey, RotationRefused } from '../../scripts/keys-rotate';
import { createTestDatabase } from '../support/db';

const b64 = (k: Buffer) => k.toString('base64') + '\n';

describe('keys:rotate (rotateMasterKey)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  let repos: Repositories;
  let projectId: string;
  let dataDir: string;
  const keyA = randomBytes(32);
  const ids: GeneratedIdentity[] = [];

  const configFor = (env: Record<string, string> = {}) =>
    loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, SNOWLINE_DATA_DIR: dataDir, ...env });
  const snapshot = async () =>
    (await repos.identities.all()).map((r) => ({
      id: r.id,
      wrapped: r.wrappedDataKey.toString('hex'),
      sealed: r.sealedKeys.toString('hex'),
      keyId: r.masterKeyId,
    }));
  const addWebhook = async (key: Buffer, secret: string) => {
    const id = randomUUID();
    await repos.webhooks.insert({
      id,
      projectId,
      url: 'http://127.0.0.1:9/hook',
      secretSealed: seal(deriveKey(key, 'webhook-secret'), Buffer.from(secret), id),
      secretPrefix: secret.slice(0, 10),
    });
    return id;
  };

  /** A stored Idempotency-Key response sealed under `key`, expiring in `hours`. */
  const addStoredResponse = async (key: Buffer, idem: string, body: unknown, hours: number) => {
    const row = {
      projectId,
      key: idem,
      method: 'POST',
      path: '/v1/webhooks',
      requestHash: 'h',
      status: 201,
    };
    await ds.query(
      `INSERT INTO idempotency_keys (project_id, key, request_hash, method, path, state, response_status, response_sealed, expires_at)
       VALUES ($1, $2, 'h', 'POST', '/v1/webhooks', 'done', 201, $3, now() + $4 * interval '1 hour')`,
      [projectId, idem, sealResponse(idempotencyResponseKey(key), row, body), hours],
    );
    return row;
  };

  beforeAll(async () => {
    db = await createTestDatabase('keys_rotate');
    ds = createDataSource(db.url, { poolSize: 2 });
    await ds.initialize();
    await runMigrations(ds);
    repos = new Repositories(ds);
    projectId = (await repos.projects.create('default', true)).id;
    dataDir = mkdtempSync(join(tmpdir(), 'snowline-keys-rotate-'));
    writeFileSync(join(dataDir, 'master-key'), b64(keyA), { mode: 0o600 });
    const sealA = new IdentityService(repos, keyA);
    for (let i = 0; i < 2; i++) {
      const identity = await generateIdentity();
      ids.push(identity);
      await repos.transaction((tx) => sealA.store(projectId, identity, i === 1, tx));
    }
  }, 60_000);
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('should refuse, change nothing and leave the key files alone when a row does not open with the current key', async () => {
    // One identity sealed under a key the operator does not have.
    const stranger = randomBytes(32);
    const foreign = await generateIdentity();
    const row = await repos.transaction((tx) =>
      new IdentityService(repos, stranger).store(projectId, foreign, true, tx),
    );
    const before = await snapshot();
    const err = await rotateMasterKey({ config: configFor() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RotationRefused);
    expect((err as Error).message).toContain(row.id);
    expect((err as Error).message).toContain(foreign.nodeId);
    expect((err as Error).message).toMatch(/nothing was changed/);
    expect(await snapshot()).toEqual(before);
    expect(readdirSync(dataDir)).toEqual(['master-key']);
    expect(readFileSync(join(dataDir, 'master-key'), 'utf8')).toBe(b64(keyA));
    await ds.query('DELETE FROM staking_identities WHERE id = $1', [row.id]);
  });

  it('should re-wrap every identity under a generated key B, swap the files and keep the sealed key files byte for byte', async () => {
    const webhookId = await addWebhook(keyA, 'whsec_rotation_test_secret');
    const stored = await addStoredResponse(keyA, 'idem-live', { secret: 'whsec_replay' }, 12);
    await addStoredResponse(keyA, 'idem-expired', { secret: 'whsec_old' }, -1);
    // A host not launched yet: its random bootstrap token is kept sealed for RunInstances replays.
    const hostId = randomUUID();
    const token = Buffer.from('bootstrap-token-of-a-new-host');
    await repos.hosts.insert({
      id: hostId,
      role: 'standby',
      zone: 'cn-hongkong-b',
      instanceType: 'ecs.g7.2xlarge',
      clientToken: `sl-${hostId}`,
      bootstrapTokenHash: 'h',
      bootstrapTokenSealed: seal(
        deriveKey(keyA, 'bootstrap-token'),
        token,
        `bootstrap-token:${hostId}`,
      ),
    });
    const before = await snapshot();
    expect(before).toHaveLength(2);
    expect(new Set(before.map((r) => r.keyId))).toEqual(new Set([masterKeyId(keyA)]));

    const now = new Date('2026-03-01T12:34:56.789Z');
    const r = await rotateMasterKey({ config: configFor(), now });

    const keyB = Buffer.from(readFileSync(join(dataDir, 'master-key'), 'utf8').trim(), 'base64');
    expect(keyB).toHaveLength(32);
    expect(keyB.equals(keyA)).toBe(false);
    expect(r).toMatchObject({
      oldKeyId: masterKeyId(keyA),
      newKeyId: masterKeyId(keyB),
      identities: 2,
      webhooks: 1,
      idempotencyResponses: 1,
      bootstrapTokens: 1,
      protocol1Hosts: 0,
      oldKeyBackup: join(dataDir, 'master-key.old.20260301T123456Z'),
    });
    const resealed = (await repos.hosts.findById(hostId))!.bootstrapTokenSealed!;
    expect(open(deriveKey(keyB, 'bootstrap-token'), resealed, `bootstrap-token:${hostId}`)).toEqual(
      token,
    );
    expect(() =>
      open(deriveKey(keyA, 'bootstrap-token'), resealed, `bootstrap-token:${hostId}`),
    ).toThrow();
    expect(r.instructions.join('\n')).toMatch(/Restart the API and the worker/);
    expect(readdirSync(dataDir).sort()).toEqual(['master-key', 'master-key.old.20260301T123456Z']);
    expect(readFileSync(r.oldKeyBackup!, 'utf8')).toBe(b64(keyA));

    const after = await snapshot();
    for (const row of after) {
      const prev = before.find((p) => p.id === row.id)!;
      expect(row.sealed).toBe(prev.sealed);
      expect(row.wrapped).not.toBe(prev.wrapped);
      expect(row.keyId).toBe(masterKeyId(keyB));
    }
    const rows = await repos.identities.all();
    const underB = new IdentityService(repos, keyB);
    const underA = new IdentityService(repos, keyA);
    for (const row of rows) {
      const original = ids.find((i) => i.nodeId === row.nodeId)!;
      const opened = underB.open(row);
      expect(opened.stakerCrt).toBe(original.stakerCrt);
      expect(opened.stakerKey).toBe(original.stakerKey);
      expect(opened.signerKey.equals(original.signerKey)).toBe(true);
      expect(() => underA.open(row)).toThrow();
    }
    const w = (await repos.webhooks.findById(webhookId))!;
    expect(open(deriveKey(keyB, 'webhook-secret'), w.secretSealed, w.id).toString()).toBe(
      'whsec_rotation_test_secret',
    );
    expect(() => open(deriveKey(keyA, 'webhook-secret'), w.secretSealed, w.id)).toThrow();
    // The live stored response replays under B (re-sealed, same body); the expired one is gone.
    const idem: { key: string; response_sealed: Buffer }[] = await ds.query(
      'SELECT key, response_sealed FROM idempotency_keys ORDER BY key',
    );
    expect(idem.map((i) => i.key)).toEqual(['idem-live']);
    const sealedB = idem[0]!.response_sealed;
    expect(openResponse(idempotencyResponseKey(keyB), stored, sealedB)).toEqual({
      secret: 'whsec_replay',
    });
    expect(() => openResponse(idempotencyResponseKey(keyA), stored, sealedB)).toThrow();
  });

  it('should take the new key from --new-key-file and, with SNOWLINE_MASTER_KEY, leave the files in place', async () => {
    const keyB = Buffer.from(readFileSync(join(dataDir, 'master-key'), 'utf8').trim(), 'base64');
    const keyC = randomBytes(32);
    const keyFile = join(dataDir, 'operator-supplied.key');
    writeFileSync(keyFile, b64(keyC), { mode: 0o600 });
    const filesBefore = readdirSync(dataDir).sort();

    const same = await rotateMasterKey({
      config: configFor({ SNOWLINE_MASTER_KEY: keyB.toString('base64') }),
      newKeyFile: join(dataDir, 'master-key'),
    }).catch((e: unknown) => e);
    expect(same).toBeInstanceOf(RotationRefused);
    expect((same as Error).message).toMatch(/is the current one/);

    const r = await rotateMasterKey({
      config: configFor({ SNOWLINE_MASTER_KEY: keyB.toString('base64') }),
      newKeyFile: keyFile,
    });
    expect(r).toMatchObject({
      identities: 2,
      webhooks: 1,
      idempotencyResponses: 1,
      oldKeyBackup: null,
      newKeyPath: keyFile,
    });
    expect(r.instructions.join('\n')).toMatch(/Set SNOWLINE_MASTER_KEY to the content of/);
    expect(readdirSync(dataDir).sort()).toEqual(filesBefore);
    const underC = new IdentityService(repos, keyC);
    for (const row of await repos.identities.all()) {
      expect(row.masterKeyId).toBe(masterKeyId(keyC));
      expect(underC.open(row).signerKey).toHaveLength(32);
    }
    expect(existsSync(join(dataDir, 'master-key.new'))).toBe(false);
  });

  it('should refuse and change nothing when a stored idempotent response does not open', async () => {
    const keyC = Buffer.from(
      readFileSync(join(dataDir, 'operator-supplied.key'), 'utf8').trim(),
      'base64',
    );
    await addStoredResponse(randomBytes(32), 'idem-foreign', { x: 1 }, 12);
    const before = await ds.query('SELECT key, response_sealed FROM idempotency_keys ORDER BY key');
    const keyFile = join(dataDir, 'never-used.key');
    writeFileSync(keyFile, b64(randomBytes(32)), { mode: 0o600 });
    const err = await rotateMasterKey({
      config: configFor({ SNOWLINE_MASTER_KEY: keyC.toString('base64') }),
      newKeyFile: keyFile,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RotationRefused);
    expect((err as Error).message).toMatch(/nothing was changed/);
    expect((err as Error).message).toContain('idempotency key idem-foreign');
    expect(
      await ds.query('SELECT key, response_sealed FROM idempotency_keys ORDER BY key'),
    ).toEqual(before);
  });
});
