import { DataSource, IsNull } from 'typeorm';
import { ApiKeyEntity, ProjectEntity } from './entities';

/** Project and key administration (additive to ProjectRepository / ApiKeyRepository). */
export class TenancyRepository {
  constructor(private readonly ds: DataSource) {}

  listProjects() {
    return this.ds.manager.find(ProjectEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
  }
  findKeyForProject(projectId: string, id: string) {
    return this.ds.manager.findOneBy(ApiKeyEntity, { id, projectId });
  }
  async revokeKey(projectId: string, id: string): Promise<ApiKeyEntity | null> {
    await this.ds.manager.update(
      ApiKeyEntity,
      { id, projectId, revokedAt: IsNull() },
      { revokedAt: new Date() },
    );
    return this.findKeyForProject(projectId, id);
  }
}
