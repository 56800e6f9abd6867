import type { Tx } from './tx';
import { EventEntity } from './entities';
import { Repo } from './repo';

export interface NewEvent {
  type: string;
  message: string;
  projectId?: string | null;
  validatorId?: string | null;
  hostId?: string | null;
  zone?: string | null;
  data?: Record<string, unknown>;
}

export class EventRepository extends Repo {
  append(e: NewEvent, tx?: Tx) {
    const em = this.em(tx);
    return em.save(
      EventEntity,
      em.create(EventEntity, {
        type: e.type,
        message: e.message,
        projectId: e.projectId ?? null,
        validatorId: e.validatorId ?? null,
        hostId: e.hostId ?? null,
        zone: e.zone ?? null,
        data: e.data ?? {},
      }),
    );
  }
  /** Many events in one statement (a sweep that sees a zone go dark writes thousands). */
  async appendMany(events: NewEvent[], tx?: Tx): Promise<void> {
    if (!events.length) return;
    const col = <T>(f: (e: NewEvent) => T) => events.map(f);
    await this.em(tx).query(
      `INSERT INTO events (project_id, validator_id, host_id, zone, type, message, data)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::jsonb[])`,
      [
        col((e) => e.projectId ?? null),
        col((e) => e.validatorId ?? null),
        col((e) => e.hostId ?? null),
        col((e) => e.zone ?? null),
        col((e) => e.type),
        col((e) => e.message),
        col((e) => JSON.stringify(e.data ?? {})),
      ],
    );
  }
  /** Events after a cursor (exclusive), oldest first. */
  list(q: { projectId: string; validatorId?: string; after?: string; limit: number }) {
    const qb = this.ds.manager
      .createQueryBuilder(EventEntity, 'e')
      .where('e.project_id = :p', { p: q.projectId });
    if (q.validatorId) qb.andWhere('e.validator_id = :v', { v: q.validatorId });
    if (q.after) qb.andWhere('e.id > :after', { after: q.after });
    return qb.orderBy('e.id', 'ASC').limit(q.limit).getMany();
  }
}
