import { randomUUID } from 'node:crypto';
import type { Tx } from './tx';
import { masterKeyId, openEnvelope, sealEnvelope } from '@snowline/domain';
import type { StakingIdentityEntity } from './entities';
import type { Repositories } from './repositories';

/** A staking identity's three key files. */
export interface SealedKeyFiles {
  /** PEM certificate (staker.crt) */
  stakerCrt: string;
  /** PEM PKCS#8 private key (staker.key) */
  stakerKey: string;
  /** raw 32-byte BLS secret (signer.key) */
  signerKey: Buffer;
}

/** What `store` needs: the key files and the public half derived from them. */
export interface IdentityToStore extends SealedKeyFiles {
  nodeId: string;
  blsPublicKey: string;
  proofOfPossession: string;
}

/** Postgres' name for the unique index on `staking_identities.node_id` of rows not superseded. */
const NODE_ID_UNIQUE = 'staking_identities_node_id_live';

/** The NodeID is already held by a stored identity (in any project). */
export class IdentityHeldError extends Error {
  override readonly name = 'IdentityHeldError';
  constructor(readonly nodeId: string) {
    super(`The staking identity ${nodeId} is already held by a validator.`);
  }
}

/**
 * Seals staking identities under the master key (AES-256-GCM envelope, the row id as additional
 * data) and opens them again. Shared by the API (imports, and the agent's one key fetch) and the
 * worker (generated identities): the only code that turns key material into rows and back.
 */
export class IdentityVault {
  constructor(
    private readonly repos: Repositories,
    private readonly masterKey: Buffer,
  ) {}

  /** Stores an identity sealed; `IdentityHeldError` when its NodeID is already (or concurrently) stored. */
  async store(
    projectId: string,
    identity: IdentityToStore,
    imported: boolean,
    tx: Tx,
  ): Promise<StakingIdentityEntity> {
    const held = await this.repos.identities.findByNodeIdForUpdate(identity.nodeId, tx);
    if (held) {
      // An import of a NodeID whose validators are all retired takes its place; the old row stays
      // for their history. Its keys wait for every former holder (AgentService.keys).
      if (!imported || (await this.repos.identities.inUse(held.id, tx)))
        throw new IdentityHeldError(identity.nodeId);
      await this.repos.identities.supersede(held.id, tx);
    }
    const id = randomUUID();
    const plain = Buffer.from(
      JSON.stringify({
        stakerCrt: identity.stakerCrt,
        stakerKey: identity.stakerKey,
        signerKey: identity.signerKey.toString('base64'),
      }),
      'utf8',
    );
    try {
      const env = sealEnvelope(this.masterKey, plain, id);
      return await this.repos.identities.insert(
        {
          id,
          projectId,
          nodeId: identity.nodeId,
          blsPublicKey: identity.blsPublicKey,
          proofOfPossession: identity.proofOfPossession,
          wrappedDataKey: env.wrappedDataKey,
          sealedKeys: env.sealed,
          masterKeyId: masterKeyId(this.masterKey),
          imported,
        } as Omit<StakingIdentityEntity, 'createdAt'>,
        tx,
      );
    } catch (err) {
      // Two stores of one NodeID at once both pass the look-up above; the unique index decides.
      const pg = err as { code?: string; constraint?: string };
      if (pg.code === '23505' && pg.constraint === NODE_ID_UNIQUE) {
        throw new IdentityHeldError(identity.nodeId);
      }
      throw err;
    } finally {
      plain.fill(0);
    }
  }

  open(row: StakingIdentityEntity): SealedKeyFiles {
    const plain = openEnvelope(
      this.masterKey,
      { wrappedDataKey: row.wrappedDataKey, sealed: row.sealedKeys },
      row.id,
    );
    try {
      const j = JSON.parse(plain.toString('utf8')) as {
        stakerCrt: string;
        stakerKey: string;
        signerKey: string;
      };
      return {
        stakerCrt: j.stakerCrt,
        stakerKey: j.stakerKey,
        signerKey: Buffer.from(j.signerKey, 'base64'),
      };
    } finally {
      plain.fill(0);
    }
  }
}
