import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  generateIdentity,
  IdentityValidationError,
  importIdentity,
  type GeneratedIdentity,
  type StakingKeyMaterial,
} from '@snowline/avalanche';
import { openEnvelope, masterKeyId, sealEnvelope } from '@snowline/domain';
import {
  Repositories,
  type EntityManager,
  type StakingIdentityEntity,
} from '@snowline/persistence';
import { badRequest, conflict } from '../common/problem';

export const MASTER_KEY = Symbol('MASTER_KEY');

export interface IdentityImport {
  stakerCrt: string;
  stakerKey: string;
  signerKey: string;
}

/** Creates, imports, seals and opens staking identities. The only code that sees key material. */
@Injectable()
export class IdentityService {
  constructor(
    private readonly repos: Repositories,
    @Inject(MASTER_KEY) private readonly masterKey: Buffer,
  ) {}

  /** Validate an import (or generate) before any row is written, so bad input changes nothing. */
  async prepare(input?: IdentityImport): Promise<GeneratedIdentity> {
    if (!input) return generateIdentity();
    try {
      return importIdentity(input);
    } catch (err) {
      if (err instanceof IdentityValidationError) {
        throw badRequest(`identity.${err.field}: ${err.message}`, {
          field: `identity.${err.field}`,
        });
      }
      throw err;
    }
  }

  async store(
    projectId: string,
    identity: GeneratedIdentity,
    imported: boolean,
    tx: EntityManager,
  ): Promise<StakingIdentityEntity> {
    const existing = await this.repos.identities.findByNodeId(identity.nodeId, tx);
    if (existing) {
      // Same answer whichever project holds it: never confirm another tenant's data.
      throw conflict(`The staking identity ${identity.nodeId} is already held by a validator.`);
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
    } finally {
      plain.fill(0);
    }
  }

  open(row: StakingIdentityEntity): StakingKeyMaterial {
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
