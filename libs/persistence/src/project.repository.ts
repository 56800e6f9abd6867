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
  /** Which of `ids` are projects of this installation (ids that are not uuids are not). */
  async existingIds(ids: string[]): Promise<string[]> {
    const uuids = ids.filter((id) =>
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id),
    );
    if (!uuids.length) return [];
    const rows = (await this.ds.query(`SELECT id FROM projects WHERE id = ANY($1::uuid[])`, [
      uuids,
    ])) as { id: string }[];
    return rows.map((r) => r.id);
  }
  create(name: string, isDefault = false, tx?: Tx) {
    return this.em(tx).save(ProjectEntity, this.em(tx).create(ProjectEntity, { name, isDefault }));
  }
}
