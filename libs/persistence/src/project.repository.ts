import type { EntityManager } from 'typeorm';
import { ProjectEntity } from './entities';
import { Repo } from './repo';

export class ProjectRepository extends Repo {
  findById(id: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(ProjectEntity, { id });
  }
  findDefault(tx?: EntityManager) {
    return this.em(tx).findOneBy(ProjectEntity, { isDefault: true });
  }
  create(name: string, isDefault = false, tx?: EntityManager) {
    return this.em(tx).save(ProjectEntity, this.em(tx).create(ProjectEntity, { name, isDefault }));
  }
}
