import type { EntityManager } from 'typeorm';
import type { Network, UpgradePolicy, ValidatorState } from '@snowline/domain';
import { Repo } from './repo';
import { managerOf, type Tx } from './tx';

/** One live validator's versions: what its spec asks for and what its current host reports. */
export interface ValidatorVersions {
  id: string;
  projectId: string;
  name: string;
  network: Network;
  state: ValidatorState;
  /** Null only for a row from before versions (the fleet default applies). */
  desiredVersion: string | null;
  upgradePolicy: UpgradePolicy;
  /** Null = unknown: no current host, no report yet, or an agent too old to say. */
  runningVersion: string | null;
  /** When the current host last reported (the running version's age); null without one. */
  runningObservedAt: Date | null;
}

/** A deadline warning to record, once per validator and activation (`activationKey`). */
export interface VersionWarning {
  validatorId: string;
  projectId: string;
  activation: string;
  network: Network;
  upgradeName: string;
  deadline: Date;
  minVersion: string;
  /** The version that will not survive (the spec's, or the host's). */
  version: string;
  cause: 'spec' | 'running';
  message: string;
  data: Record<string, unknown>;
}

export interface RecordedWarning {
  validatorId: string;
  activation: string;
  deadline: Date;
  minVersion: string;
  version: string;
  cause: 'spec' | 'running';
  warnedAt: Date;
}

const VERSION_COLUMNS = `v.id, v.project_id AS "projectId", v.name, v.network, v.state,
  v.avalanchego_version AS "desiredVersion", v.upgrade_policy AS "upgradePolicy",
  h.running_version AS "runningVersion", h.last_report_at AS "runningObservedAt"`;

/** Versions of the fleet, and the `version.upgrade_required` warnings already given. */
export class VersionRepository extends Repo {
  /** Every validator not retiring or retired, of these networks (all when omitted). */
  fleet(networks?: readonly string[]): Promise<ValidatorVersions[]> {
    return this.ds.query(
      `SELECT ${VERSION_COLUMNS} FROM validators v LEFT JOIN hosts h ON h.id = v.host_id
        WHERE v.state NOT IN ('retiring', 'retired') AND ($1::text[] IS NULL OR v.network = ANY($1))
        ORDER BY v.created_at, v.id`,
      [networks ?? null],
    ) as Promise<ValidatorVersions[]>;
  }

  /** One project's live validators (the console banner and the upgrades route). */
  ofProject(projectId: string): Promise<ValidatorVersions[]> {
    return this.ds.query(
      `SELECT ${VERSION_COLUMNS} FROM validators v LEFT JOIN hosts h ON h.id = v.host_id
        WHERE v.project_id = $1 AND v.state NOT IN ('retiring', 'retired')
        ORDER BY v.created_at, v.id`,
      [projectId],
    ) as Promise<ValidatorVersions[]>;
  }

  /**
   * Records each warning not given before (validator, activation) and appends its
   * `version.upgrade_required` event in the same transaction; returns the validators warned now.
   * A second run, or a second worker, warns nobody twice.
   */
  async recordWarnings(warnings: VersionWarning[], tx?: Tx): Promise<string[]> {
    if (!warnings.length) return [];
    const run = async (em: EntityManager): Promise<string[]> => {
      const col = <T>(f: (w: VersionWarning) => T) => warnings.map(f);
      const inserted = (await em.query(
        `INSERT INTO version_warnings
           (validator_id, activation, network, upgrade_name, deadline, min_version, version, cause)
         SELECT w.* FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                                $6::text[], $7::text[], $8::text[])
                AS w(validator_id, activation, network, upgrade_name, deadline, min_version, version, cause)
           JOIN validators v ON v.id = w.validator_id
         ON CONFLICT (validator_id, activation) DO NOTHING
         RETURNING validator_id AS "validatorId", activation`,
        [
          col((w) => w.validatorId),
          col((w) => w.activation),
          col((w) => w.network),
          col((w) => w.upgradeName),
          col((w) => w.deadline),
          col((w) => w.minVersion),
          col((w) => w.version),
          col((w) => w.cause),
        ],
      )) as { validatorId: string; activation: string }[];
      const fresh = new Set(inserted.map((r) => `${r.validatorId} ${r.activation}`));
      const events = warnings.filter((w) => fresh.has(`${w.validatorId} ${w.activation}`));
      if (events.length)
        await em.query(
          `INSERT INTO events (project_id, validator_id, type, message, data)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[])`,
          [
            events.map((w) => w.projectId),
            events.map((w) => w.validatorId),
            events.map(() => 'version.upgrade_required'),
            events.map((w) => w.message),
            events.map((w) => JSON.stringify(w.data)),
          ],
        );
      return events.map((w) => w.validatorId);
    };
    return tx ? run(managerOf(tx)) : this.ds.transaction(run);
  }

  /** The warnings given to one validator, newest deadline first. */
  warningsOf(validatorId: string): Promise<RecordedWarning[]> {
    return this.ds.query(
      `SELECT validator_id AS "validatorId", activation, deadline, min_version AS "minVersion",
              version, cause, warned_at AS "warnedAt"
         FROM version_warnings WHERE validator_id = $1 ORDER BY deadline DESC`,
      [validatorId],
    ) as Promise<RecordedWarning[]>;
  }
}
