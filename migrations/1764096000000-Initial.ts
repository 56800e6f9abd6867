import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1764096000000 implements MigrationInterface {
  name = 'Initial1764096000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE projects (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      is_default boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(
      `CREATE UNIQUE INDEX projects_one_default ON projects (is_default) WHERE is_default`,
    );
    await q.query(`CREATE TABLE api_keys (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      name text NOT NULL,
      prefix text NOT NULL,
      secret_hash text NOT NULL UNIQUE,
      scopes text[] NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz,
      last_used_at timestamptz
    )`);
    await q.query(`CREATE INDEX api_keys_project ON api_keys (project_id)`);
    await q.query(`CREATE TABLE staking_identities (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects(id),
      node_id text NOT NULL UNIQUE,
      bls_public_key text NOT NULL,
      proof_of_possession text NOT NULL,
      wrapped_data_key bytea NOT NULL,
      sealed_keys bytea NOT NULL,
      master_key_id text NOT NULL,
      imported boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE validators (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects(id),
      name text NOT NULL,
      network text NOT NULL CHECK (network IN ('fuji', 'mainnet', 'local')),
      instance_type text NOT NULL,
      zones text[] NOT NULL DEFAULT '{}',
      labels jsonb NOT NULL DEFAULT '{}',
      protected boolean NOT NULL DEFAULT false,
      state text NOT NULL CHECK (state IN ('pending','provisioning','syncing','active','degraded','failing_over','retiring','retired','failed')),
      state_reason text,
      generation integer NOT NULL DEFAULT 0,
      identity_id uuid NOT NULL REFERENCES staking_identities(id),
      node_id text NOT NULL,
      host_id uuid,
      zone text,
      instance_id text,
      attempt integer NOT NULL DEFAULT 0,
      active_at timestamptz,
      retired_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(
      `CREATE INDEX validators_project_created ON validators (project_id, created_at DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX validators_state ON validators (state)`);
    await q.query(
      `CREATE UNIQUE INDEX validators_live_name ON validators (project_id, name) WHERE state NOT IN ('retired', 'failed')`,
    );
    await q.query(
      `CREATE UNIQUE INDEX validators_live_identity ON validators (identity_id) WHERE state <> 'retired'`,
    );
    await q.query(`CREATE TABLE hosts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid REFERENCES projects(id),
      validator_id uuid REFERENCES validators(id),
      role text NOT NULL CHECK (role IN ('assigned', 'standby')),
      zone text NOT NULL,
      instance_type text NOT NULL,
      client_token text NOT NULL UNIQUE,
      instance_id text UNIQUE,
      generation integer,
      cloud_status text,
      bootstrap_token_hash text NOT NULL UNIQUE,
      registered_at timestamptz,
      lease_expires_at timestamptz,
      last_report jsonb,
      last_report_at timestamptz,
      keys_fetched_generation integer,
      fenced boolean NOT NULL DEFAULT false,
      deleted_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX hosts_validator ON hosts (validator_id)`);
    await q.query(`CREATE INDEX hosts_live ON hosts (zone) WHERE deleted_at IS NULL`);
    await q.query(`CREATE TABLE events (
      id bigserial PRIMARY KEY,
      project_id uuid,
      validator_id uuid,
      host_id uuid,
      zone text,
      type text NOT NULL,
      message text NOT NULL,
      data jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX events_project ON events (project_id, id)`);
    await q.query(`CREATE INDEX events_validator ON events (validator_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'events',
      'hosts',
      'validators',
      'staking_identities',
      'api_keys',
      'projects',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
