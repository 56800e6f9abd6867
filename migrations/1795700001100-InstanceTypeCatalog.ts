import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `instance_type_catalog`: what each zone of the region offers (DescribeAvailableResource) and how big
 * each type is (DescribeInstanceTypes), as the worker last read it. The API checks a spec's
 * instanceType against it without holding cloud credentials (issue 18, point 5).
 */
export class InstanceTypeCatalog1795700001100 implements MigrationInterface {
  name = 'InstanceTypeCatalog1795700001100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE instance_type_catalog (
        region text NOT NULL,
        zone_id text NOT NULL,
        instance_type text NOT NULL,
        status text NOT NULL,
        status_category text NOT NULL,
        vcpu integer,
        memory_gib double precision,
        refreshed_at timestamptz NOT NULL,
        PRIMARY KEY (region, zone_id, instance_type)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE instance_type_catalog`);
  }
}
