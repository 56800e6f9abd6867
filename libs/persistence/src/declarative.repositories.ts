import type { DataSource, EntityManager } from 'typeorm';
import type {
  CurrentWebhook,
  PoolAction,
  PoolSetting,
  UnmanagedWebhook,
  WebhookAction,
} from '@snowline/domain';

interface WebhookRow {
  id: string;
  config_name: string | null;
  url: string;
  event_types: string[];
  enabled: boolean;
  description: string;
  secret_env: string | null;
  secret_version: number | null;
  updated_at: Date;
}

/** A plan's webhook and standby-pool actions, kept beside the plan row (null: not planned). */
export interface PlanConfigActions {
  webhookActions: WebhookAction[] | null;
  poolActions: PoolAction[] | null;
  unmanagedWebhooks: UnmanagedWebhook[];
}

/** What snowline.yaml manages beyond validators: the project's webhooks by name, and plans' extras. */
export class DeclarativeRepository {
  constructor(private readonly ds: DataSource) {}

  private em(tx?: EntityManager): EntityManager {
    return tx ?? this.ds.manager;
  }

  /** The project's live webhooks, split into those a file manages (by name) and the others. */
  async webhooks(
    projectId: string,
    tx?: EntityManager,
  ): Promise<{
    managed: (CurrentWebhook & { updatedAt: Date })[];
    unmanaged: UnmanagedWebhook[];
  }> {
    const rows = (await this.em(tx).query(
      `SELECT id, config_name, url, event_types, enabled, description, secret_env, secret_version,
              updated_at
         FROM webhooks WHERE project_id = $1 AND deleted_at IS NULL
        ORDER BY config_name NULLS LAST, created_at, id`,
      [projectId],
    )) as WebhookRow[];
    return {
      managed: rows
        .filter((r) => r.config_name !== null)
        .map((r) => ({
          id: r.id,
          name: r.config_name!,
          url: r.url,
          events: r.event_types,
          enabled: r.enabled,
          description: r.description,
          secretEnv: r.secret_env,
          secretVersion: r.secret_version ?? 1,
          updatedAt: r.updated_at,
        })),
      unmanaged: rows
        .filter((r) => r.config_name === null)
        .map((r) => ({ id: r.id, url: r.url, description: r.description })),
    };
  }

  /** Managed names deleted (outside a plan) after `since` and not live again → when. */
  async webhooksDeletedSince(projectId: string, names: string[], since: Date) {
    if (!names.length) return new Map<string, Date>();
    const rows = (await this.ds.query(
      `SELECT config_name AS name, max(deleted_at) AS at FROM webhooks
        WHERE project_id = $1 AND config_name = ANY($2) AND deleted_at > $3
        GROUP BY config_name`,
      [projectId, names, since],
    )) as { name: string; at: Date }[];
    return new Map(rows.map((r) => [r.name, r.at]));
  }

  async savePlanConfig(planId: string, c: PlanConfigActions, tx?: EntityManager): Promise<void> {
    await this.em(tx).query(
      `INSERT INTO plan_config_actions (plan_id, webhook_actions, pool_actions, unmanaged_webhooks)
       VALUES ($1, $2, $3, $4)`,
      [
        planId,
        c.webhookActions && JSON.stringify(c.webhookActions),
        c.poolActions && JSON.stringify(c.poolActions),
        JSON.stringify(c.unmanagedWebhooks),
      ],
    );
  }

  /** A plan's extras; nulls for a plan that planned neither (or was made before they existed). */
  async planConfig(planId: string, tx?: EntityManager): Promise<PlanConfigActions> {
    const rows = (await this.em(tx).query(
      `SELECT webhook_actions, pool_actions, unmanaged_webhooks FROM plan_config_actions
        WHERE plan_id = $1`,
      [planId],
    )) as {
      webhook_actions: WebhookAction[] | null;
      pool_actions: PoolAction[] | null;
      unmanaged_webhooks: UnmanagedWebhook[];
    }[];
    const r = rows[0];
    return {
      webhookActions: r?.webhook_actions ?? null,
      poolActions: r?.pool_actions ?? null,
      unmanagedWebhooks: r?.unmanaged_webhooks ?? [],
    };
  }
}

export interface StoredPoolSetting extends PoolSetting {
  updatedBy: string;
  updatedAt: Date;
}

/**
 * The deployment's standby pool sizes (admin setting): network × zone → warm standbys. A pair with no
 * row falls back to the STANDBY_POOL default for its network.
 */
export class StandbyPoolRepository {
  constructor(private readonly ds: DataSource) {}

  async list(tx?: EntityManager): Promise<StoredPoolSetting[]> {
    const rows = (await (tx ?? this.ds.manager).query(
      `SELECT network, zone, size, updated_by, updated_at FROM standby_pool_sizes
        ORDER BY network, zone`,
    )) as { network: string; zone: string; size: number; updated_by: string; updated_at: Date }[];
    return rows.map((r) => ({
      network: r.network,
      zone: r.zone,
      size: r.size,
      updatedBy: r.updated_by,
      updatedAt: r.updated_at,
    }));
  }

  /**
   * Replaces the whole setting in one transaction (rows left out go back to the default); unchanged
   * rows keep who set them and when. Returns the setting as it was before.
   */
  async replace(settings: PoolSetting[], by: string): Promise<StoredPoolSetting[]> {
    return this.ds.transaction(async (tx) => {
      await tx.query('LOCK TABLE standby_pool_sizes IN SHARE ROW EXCLUSIVE MODE');
      const before = await this.list(tx);
      await tx.query(
        `DELETE FROM standby_pool_sizes s
          WHERE NOT EXISTS (SELECT 1 FROM jsonb_to_recordset($1::jsonb) AS n(network text, zone text, size int)
                             WHERE n.network = s.network AND n.zone = s.zone)`,
        [JSON.stringify(settings)],
      );
      await tx.query(
        `INSERT INTO standby_pool_sizes (network, zone, size, updated_by, updated_at)
         SELECT network, zone, size, $2, now()
           FROM jsonb_to_recordset($1::jsonb) AS n(network text, zone text, size int)
         ON CONFLICT (network, zone) DO UPDATE
           SET size = EXCLUDED.size, updated_by = EXCLUDED.updated_by, updated_at = now()
         WHERE standby_pool_sizes.size IS DISTINCT FROM EXCLUDED.size`,
        [JSON.stringify(settings), by],
      );
      return before;
    });
  }

  /** The size each (network, zone) keeps: the setting where there is one, else the default. */
  async effective(
    defaults: Record<string, number>,
    zones: string[],
  ): Promise<Map<string, Map<string, number>>> {
    const out = new Map<string, Map<string, number>>();
    for (const [network, n] of Object.entries(defaults))
      out.set(network, new Map(zones.map((z) => [z, n])));
    for (const s of await this.list()) {
      if (!zones.includes(s.zone)) continue;
      const byZone = out.get(s.network) ?? new Map(zones.map((z) => [z, 0]));
      byZone.set(s.zone, s.size);
      out.set(s.network, byZone);
    }
    return out;
  }
}
