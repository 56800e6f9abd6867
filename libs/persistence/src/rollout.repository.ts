import type { DataSource, EntityManager } from 'typeorm';

export interface RolloutHalt {
  network: string;
  version: string;
  reason: string;
  validatorId: string | null;
  haltedAt: Date;
}

/** Rolling upgrades: halted target versions, and the planned moves under way per zone. */
export class RolloutRepository {
  constructor(private readonly ds: DataSource) {}

  /** Halt the rollout to `version` on `network` (the first halt's reason stays). */
  async halt(
    h: { network: string; version: string; reason: string; validatorId: string | null },
    tx: EntityManager,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO rollout_halts (network, version, reason, validator_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (network, version) DO NOTHING`,
      [h.network, h.version, h.reason, h.validatorId],
    );
  }

  halted(): Promise<RolloutHalt[]> {
    return this.ds.query(
      `SELECT network, version, reason, validator_id AS "validatorId", halted_at AS "haltedAt"
         FROM rollout_halts ORDER BY halted_at`,
    );
  }

  /** Resume: the version may be rolled to again. False when it was not halted. */
  async resume(network: string, version: string): Promise<boolean> {
    const [, n] = (await this.ds.query(
      `DELETE FROM rollout_halts WHERE network = $1 AND version = $2`,
      [network, version],
    )) as [unknown, number];
    return n > 0;
  }

  /** Planned moves (upgrade, rollback) under way, by the zone they leave. */
  async plannedInFlightByZone(): Promise<Record<string, number>> {
    const rows = (await this.ds.query(
      `SELECT from_zone AS zone, count(*)::int AS n FROM failovers
        WHERE status = 'running' AND kind <> 'failover' AND from_zone IS NOT NULL
        GROUP BY from_zone`,
    )) as { zone: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.zone, r.n]));
  }
}
