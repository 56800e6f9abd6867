import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A change of a validator's desired spec, as PlanSerialLog had it, plus its version and policy. */
const SPEC_CHANGED = (extra: boolean) => `TG_OP = 'INSERT'
          OR NEW.name IS DISTINCT FROM OLD.name
          OR NEW.network IS DISTINCT FROM OLD.network
          OR NEW.instance_type IS DISTINCT FROM OLD.instance_type
          OR NEW.zones IS DISTINCT FROM OLD.zones
          OR NEW.labels IS DISTINCT FROM OLD.labels
          OR NEW.protected IS DISTINCT FROM OLD.protected${
            extra
              ? `
          OR NEW.avalanchego_version IS DISTINCT FROM OLD.avalanchego_version
          OR NEW.upgrade_policy IS DISTINCT FROM OLD.upgrade_policy`
              : ''
          }
          OR (NEW.state = 'retiring' AND OLD.state IS DISTINCT FROM 'retiring')`;

const bump = (
  extra: boolean,
) => `CREATE OR REPLACE FUNCTION snowline_bump_plan_serial() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF ${SPEC_CHANGED(extra)} THEN
          INSERT INTO plan_serial_changes (project_id) VALUES (NEW.project_id);
        END IF;
        RETURN NULL;
      END $$`;

/**
 * The version a spec names and its upgrade policy are part of the desired spec a plan compares
 * (snowline.yaml `version:` / `upgrade:`): a change of either outside a plan makes a plan computed
 * before it stale, as a label change does.
 */
export class VersionsInPlanSerial1795700003100 implements MigrationInterface {
  name = 'VersionsInPlanSerial1795700003100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(bump(true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(bump(false));
  }
}
