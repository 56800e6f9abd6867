import type { Tx } from './tx';
import { ProjectEntity } from './entities';
import { Repo } from './repo';

export class ProjectRepository extends Repo {
  findById(id: string, tx?: Tx) {
    return this.em(tx).findOneBy(ProjectEntity, { id });
  }
  findDefault(tx?: Tx) {
    return this.em(tx).findOneBy(ProjectEntity, { isDefault: true });
  }
  create(name: string, isDefault = false, tx?: Tx) {
    return this.em(tx).save(ProjectEntity, this.em(tx).create(ProjectEntity, { name, isDefault }));
  }
}
