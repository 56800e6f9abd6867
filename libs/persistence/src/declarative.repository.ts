import type { DataSource, EntityManager } from 'typeorm';
import { managerOf, type Tx } from './tx';
import type { CurrentWebhook, PoolAction, UnmanagedWebhook, WebhookAction } from '@snowline/domain';

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

  private em(tx?: Tx): EntityManager {
    return tx ? managerOf(tx) : this.ds.manager;
  }

  /** The project's live webhooks, split into those a file manages (by name) and the others. */
  async webhooks(
    projectId: string,
    tx?: Tx,
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

  async savePlanConfig(planId: string, c: PlanConfigActions, tx?: Tx): Promise<void> {
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
  async planConfig(planId: string, tx?: Tx): Promise<PlanConfigActions> {
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
