import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Declarative plans: a per-project state serial (bumped by a trigger on every change of a validator's
 * desired spec, whoever makes it), the plans themselves, and the per-project apply lock.
 */
export class Plans1795635953720 implements MigrationInterface {
  name = 'Plans1795635953720';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE plan_serials (
      project_id uuid PRIMARY KEY REFERENCES projects(id),
      serial bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    // A trigger, not service code: console, API, plans and any future writer all bump it.
    await q.query(`CREATE FUNCTION snowline_bump_plan_serial() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT'
          OR NEW.name IS DISTINCT FROM OLD.name
          OR NEW.network IS DISTINCT FROM OLD.network
          OR NEW.instance_type IS DISTINCT FROM OLD.instance_type
          OR NEW.zones IS DISTINCT FROM OLD.zones
          OR NEW.labels IS DISTINCT FROM OLD.labels
          OR NEW.protected IS DISTINCT FROM OLD.protected
          OR (NEW.state = 'retiring' AND OLD.state IS DISTINCT FROM 'retiring') THEN
          INSERT INTO plan_serials (project_id, serial) VALUES (NEW.project_id, 1)
            ON CONFLICT (project_id)
            DO UPDATE SET serial = plan_serials.serial + 1, updated_at = now();
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER validators_plan_serial AFTER INSERT OR UPDATE ON validators
      FOR EACH ROW EXECUTE FUNCTION snowline_bump_plan_serial()`);
    await q.query(`CREATE TABLE plans (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects(id),
      mode text NOT NULL CHECK (mode IN ('apply', 'destroy')),
      serial bigint NOT NULL,
      status text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'applying', 'applied', 'failed')),
      desired jsonb NOT NULL,
      snapshot jsonb NOT NULL,
      actions jsonb NOT NULL,
      summary jsonb NOT NULL,
      results jsonb NOT NULL DEFAULT '[]',
      created_by text NOT NULL,
      applied_by text,
      created_at timestamptz NOT NULL DEFAULT now(),
      applied_at timestamptz,
      settled_at timestamptz
    )`);
    await q.query(`CREATE INDEX plans_project_created ON plans (project_id, created_at DESC)`);
    await q.query(
      `CREATE INDEX plans_project_applied ON plans (project_id, applied_at DESC) WHERE applied_at IS NOT NULL`,
    );
    await q.query(`CREATE TABLE plan_locks (
      project_id uuid PRIMARY KEY REFERENCES projects(id),
      plan_id uuid NOT NULL REFERENCES plans(id),
      holder text NOT NULL,
      since timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS plan_locks`);
    await q.query(`DROP TABLE IF EXISTS plans`);
    await q.query(`DROP TRIGGER IF EXISTS validators_plan_serial ON validators`);
    await q.query(`DROP FUNCTION IF EXISTS snowline_bump_plan_serial()`);
    await q.query(`DROP TABLE IF EXISTS plan_serials`);
  }
}
