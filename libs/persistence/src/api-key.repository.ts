import { IsNull } from 'typeorm';
import type { Tx } from './tx';
import { ApiKeyEntity } from './entities';
import { Repo, sha256Hex } from './repo';

export class ApiKeyRepository extends Repo {
  async create(
    input: { projectId: string; name: string; scopes: string[]; secret: string },
    tx?: Tx,
  ): Promise<ApiKeyEntity> {
    const em = this.em(tx);
    return em.save(
      ApiKeyEntity,
      em.create(ApiKeyEntity, {
        projectId: input.projectId,
        name: input.name,
        scopes: input.scopes,
        prefix: input.secret.slice(0, 12),
        secretHash: sha256Hex(input.secret),
      }),
    );
  }
  /** Looks a key up by its secret; revoked keys are not found. */
  findActiveBySecret(secret: string): Promise<ApiKeyEntity | null> {
    return this.findActiveByHash(sha256Hex(secret));
  }
  findActiveByHash(secretHash: string): Promise<ApiKeyEntity | null> {
    return this.ds.manager.findOneBy(ApiKeyEntity, { secretHash, revokedAt: IsNull() });
  }
  findBySecretHash(hash: string, tx?: Tx) {
    return this.em(tx).findOneBy(ApiKeyEntity, { secretHash: hash });
  }
  listForProject(projectId: string) {
    return this.ds.manager.find(ApiKeyEntity, {
      where: { projectId },
      order: { createdAt: 'ASC' },
    });
  }
}
