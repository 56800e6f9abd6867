import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * snowline.yaml owns only what it made or adopted (issue 21, point 5). The plan records tell which
 * validators a plan made: every applied plan keeps one result per action with the validator it
 * created (`create`, and the new one of a `replace`). Those are marked managed; everything else
 * (REST, console, or merely named by a file after it existed) starts unmanaged, which is the safe
 * side: an unmanaged validator is never retired without `--prune`, and a file naming it is offered
 * to adopt it.
 */
export class FileOwnedValidators1795700001300 implements MigrationInterface {
  name = 'FileOwnedValidators1795700001300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE validators ADD COLUMN managed_by_config boolean NOT NULL DEFAULT false`,
    );
    await q.query(
      `UPDATE validators v SET managed_by_config = true
         FROM plans p, jsonb_array_elements(p.results) r
        WHERE p.project_id = v.project_id
          AND coalesce(r->>'kind', 'validator') = 'validator'
          AND r->>'action' IN ('create', 'replace')
          AND r->>'validatorId' = v.id::text`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE validators DROP COLUMN managed_by_config`);
  }
}
