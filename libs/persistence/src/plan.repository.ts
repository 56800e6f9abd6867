import type { DataSource, EntityManager } from 'typeorm';
import { inTransaction, managerOf, type Tx } from './tx';
import type { CurrentValidator } from '@snowline/domain';
import { PlanEntity, PlanLockEntity } from './entities';

interface SnapshotRow {
  id: string;
  name: string;
  network: CurrentValidator['network'];
  subnet_id: string | null;
  instance_type: string;
  zones: string[];
  labels: Record<string, string>;
  protected: boolean;
  state: CurrentValidator['state'];
  state_reason: string | null;
  node_id: string;
  imported: boolean | null;
  managed_by_config: boolean;
  avalanchego_version: string | null;
  upgrade_policy: NonNullable<CurrentValidator['upgradePolicy']>;
  running_version: string | null;
}

/** Plans, the apply lock and the state serial. */
export class PlanRepository {
  constructor(private readonly ds: DataSource) {}

  private em(tx?: Tx): EntityManager {
    return tx ? managerOf(tx) : this.ds.manager;
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, isolation?: 'REPEATABLE READ') {
    return inTransaction(this.ds, fn, isolation);
  }

  /** The project's state serial (0 before its first validator). */
  async serial(projectId: string, tx?: Tx): Promise<number> {
    const rows = (await this.em(tx).query(
      `SELECT count(*)::bigint AS serial FROM plan_serial_changes WHERE project_id = $1`,
      [projectId],
    )) as { serial: string }[];
    return Number(rows[0]?.serial ?? 0);
  }

  /**
   * Every validator of the project not yet retired, in the public shape a plan may hold. `version`
   * is absent for a row from before versions (the caller knows the fleet default).
   */
  async snapshot(projectId: string, tx?: Tx): Promise<CurrentValidator[]> {
    const rows = (await this.em(tx).query(
      `SELECT v.id, v.name, v.network, v.subnet_id, v.instance_type, v.zones, v.labels, v.protected, v.state,
              v.state_reason, v.node_id, i.imported, v.managed_by_config, v.avalanchego_version,
              v.upgrade_policy, h.running_version
         FROM validators v LEFT JOIN staking_identities i ON i.id = v.identity_id
         LEFT JOIN hosts h ON h.id = v.host_id
        WHERE v.project_id = $1 AND v.state <> 'retired'
        ORDER BY v.name, v.created_at`,
      [projectId],
    )) as SnapshotRow[];
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      network: r.network,
      subnetId: r.subnet_id,
      instanceType: r.instance_type,
      zones: r.zones,
      labels: r.labels,
      protected: r.protected,
      state: r.state,
      stateReason: r.state_reason,
      nodeId: r.node_id,
      identitySource: r.imported ? 'imported' : 'generated',
      managed: r.managed_by_config,
      ...(r.avalanchego_version !== null ? { version: r.avalanchego_version } : {}),
      upgradePolicy: r.upgrade_policy,
      runningVersion: r.running_version,
    }));
  }

  /** A plan adopts a validator made outside the file: from now on the file manages it. */
  async adopt(projectId: string, validatorId: string, tx?: Tx): Promise<boolean> {
    const res = (await this.em(tx).query(
      `UPDATE validators SET managed_by_config = true
        WHERE id = $1 AND project_id = $2 AND state <> 'retired' RETURNING id`,
      [validatorId, projectId],
    )) as [unknown[], number] | unknown[];
    const rows = Array.isArray(res[0]) ? (res[0] as unknown[]) : (res as unknown[]);
    return rows.length > 0;
  }

  /** When the project's last plan finished applying (drift is what changed after it). */
  async lastAppliedAt(projectId: string, tx?: Tx): Promise<Date | null> {
    const rows = (await this.em(tx).query(
      `SELECT max(applied_at) AS at FROM plans WHERE project_id = $1 AND applied_at IS NOT NULL`,
      [projectId],
    )) as { at: Date | null }[];
    return rows[0]?.at ?? null;
  }

  /** Latest `validator.updated` event after `since`, per validator: a change made outside a plan. */
  async changedSince(projectId: string, since: Date, tx?: Tx) {
    const rows = (await this.em(tx).query(
      `SELECT validator_id, max(created_at) AS at FROM events
        WHERE project_id = $1 AND type = 'validator.updated' AND created_at > $2
        GROUP BY validator_id`,
      [projectId, since],
    )) as { validator_id: string; at: Date }[];
    return new Map(rows.map((r) => [r.validator_id, r.at]));
  }

  /** Names retired (or set retiring) outside a plan after `since` → when. */
  async retiredSince(projectId: string, names: string[], since: Date, tx?: Tx) {
    if (!names.length) return new Map<string, Date>();
    const rows = (await this.em(tx).query(
      `SELECT v.name, max(e.created_at) AS at FROM validators v
         JOIN events e ON e.validator_id = v.id AND e.type = 'validator.retiring'
        WHERE v.project_id = $1 AND v.state = 'retired' AND v.name = ANY($2) AND e.created_at > $3
        GROUP BY v.name`,
      [projectId, names, since],
    )) as { name: string; at: Date }[];
    return new Map(rows.map((r) => [r.name, r.at]));
  }

  insert(row: Partial<PlanEntity>, tx?: Tx) {
    const em = this.em(tx);
    return em.save(PlanEntity, em.create(PlanEntity, row));
  }
  findForProject(projectId: string, id: string, tx?: Tx) {
    return this.em(tx).findOneBy(PlanEntity, { projectId, id });
  }
  findById(id: string, tx?: Tx) {
    return this.em(tx).findOneBy(PlanEntity, { id });
  }
  async update(id: string, patch: Partial<PlanEntity>, tx?: Tx): Promise<void> {
    // jsonb columns confuse TypeORM's deep-partial type; the patch is a plain column map.
    await this.em(tx).update(PlanEntity, { id }, patch as Parameters<EntityManager['update']>[2]);
  }
  /** Moves a plan between statuses only from the expected one (a second apply is a no-op). */
  async transition(
    id: string,
    from: PlanEntity['status'],
    patch: Partial<PlanEntity>,
    tx?: Tx,
  ): Promise<boolean> {
    const res = await this.em(tx)
      .createQueryBuilder()
      .update(PlanEntity)
      .set(patch as Parameters<EntityManager['update']>[2])
      .where('id = :id AND status = :from', { id, from })
      .execute();
    return (res.affected ?? 0) > 0;
  }

  lock(projectId: string, tx?: Tx) {
    return this.em(tx).findOneBy(PlanLockEntity, { projectId });
  }
  /** Takes the project's apply lock; false when someone holds it. */
  async tryLock(projectId: string, planId: string, holder: string): Promise<boolean> {
    const rows = (await this.ds.query(
      `INSERT INTO plan_locks (project_id, plan_id, holder, since) VALUES ($1, $2, $3, now())
       ON CONFLICT (project_id) DO NOTHING RETURNING plan_id`,
      [projectId, planId, holder],
    )) as unknown[];
    return rows.length > 0;
  }
  /** Releases the lock if (and only if) this plan holds it. */
  async unlock(projectId: string, planId: string, tx?: Tx): Promise<boolean> {
    const res = (await this.em(tx).query(
      `DELETE FROM plan_locks WHERE project_id = $1 AND plan_id = $2 RETURNING plan_id`,
      [projectId, planId],
    )) as [unknown[], number] | unknown[];
    // pg driver through TypeORM returns [rows, count] for DELETE … RETURNING.
    const rows = Array.isArray(res[0]) ? (res[0] as unknown[]) : (res as unknown[]);
    return rows.length > 0;
  }
}
