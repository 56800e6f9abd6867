import type { DataSource } from 'typeorm';
import { managerOf, type Tx } from './tx';
import type { PoolValidator, ValidatorState } from '@snowline/domain';

/** A live validator as the rollout judges it: what its spec asks for, what its host runs. */
export interface RolloutValidatorRow {
  id: string;
  network: string;
  zone: string | null;
  state: ValidatorState;
  desiredVersion: string;
  /** Its host's reported version; null = unknown. */
  runningVersion: string | null;
  moving: boolean;
  allowedZones: string[];
  /** The L1 it validates; null: the primary network. */
  subnetId: string | null;
}

export interface RolloutStandbyRow {
  id: string;
  network: string;
  zone: string;
  version: string | null;
  synced: boolean;
  /** The L1 its node tracks; null: none. */
  subnetId: string | null;
}

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
    tx: Tx,
  ): Promise<void> {
    await managerOf(tx).query(
      `INSERT INTO rollout_halts (network, version, reason, validator_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (network, version) DO NOTHING`,
      [h.network, h.version, h.reason, h.validatorId],
    );
  }

  /**
   * Lift a halt: the rollout loop moves validators onto `version` again from its next round. Null
   * when no rollout to it is halted on `network`.
   */
  async resume(network: string, version: string): Promise<RolloutHalt | null> {
    const [rows] = (await this.ds.query(
      `DELETE FROM rollout_halts WHERE network = $1 AND version = $2
       RETURNING network, version, reason, validator_id AS "validatorId", halted_at AS "haltedAt"`,
      [network, version],
    )) as [RolloutHalt[], number];
    return rows[0] ?? null;
  }

  halted(): Promise<RolloutHalt[]> {
    return this.ds.query(
      `SELECT network, version, reason, validator_id AS "validatorId", halted_at AS "haltedAt"
         FROM rollout_halts ORDER BY halted_at`,
    );
  }

  /** Every live validator with a version, its host's running version, whether a move is under way. */
  validators(): Promise<RolloutValidatorRow[]> {
    return this.ds.query(
      `SELECT v.id, v.network, v.zone, v.state, v.avalanchego_version AS "desiredVersion",
              h.running_version AS "runningVersion", v.zones AS "allowedZones",
              v.subnet_id AS "subnetId",
              EXISTS (SELECT 1 FROM failovers f WHERE f.validator_id = v.id AND f.status = 'running')
                AS moving
         FROM validators v LEFT JOIN hosts h ON h.id = v.host_id AND h.deleted_at IS NULL
        WHERE v.avalanchego_version IS NOT NULL
          AND v.state NOT IN ('retiring', 'retired', 'failed')
        ORDER BY v.id`,
    );
  }

  /**
   * What the standby pools must hold: each distinct (network, L1, desired version, running version)
   * among live validators with a version. The refill runs every sweep; this is its one query.
   */
  poolDemand(): Promise<PoolValidator[]> {
    return this.ds.query(
      `SELECT DISTINCT v.network, v.subnet_id AS "subnetId",
              v.avalanchego_version AS "desiredVersion", h.running_version AS "runningVersion"
         FROM validators v LEFT JOIN hosts h ON h.id = v.host_id AND h.deleted_at IS NULL
        WHERE v.avalanchego_version IS NOT NULL
          AND v.state NOT IN ('retiring', 'retired', 'failed')`,
    );
  }

  /** Every usable standby with its version and whether it could take an identity now. */
  standbys(): Promise<RolloutStandbyRow[]> {
    return this.ds.query(
      `SELECT id, network, zone, subnet_id AS "subnetId",
              coalesce(running_version, avalanchego_version) AS version,
              (health = 'healthy' AND instance_id IS NOT NULL
                AND (last_report->>'bootstrapped')::boolean IS TRUE) AS synced
         FROM hosts
        WHERE role = 'standby' AND deleted_at IS NULL AND NOT fenced`,
    );
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
