import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ApiLimitQuery, parseLimit } from '../common/paging';
import { badRequest } from '../common/problem';

interface ZoneRow {
  id: string;
  status: string;
  placement_allowed: boolean;
  reason: string | null;
  status_since: Date;
  hosts: number;
  unhealthy: number;
  standbys: number;
  stock: Record<string, string>;
  last_observed_at: Date | null;
}

const age = (d: Date | null) =>
  d ? Math.max(0, Math.round((Date.now() - d.getTime()) / 1000)) : null;

/** Zones and incidents: infrastructure every tenant may see; affected validators only their own. */
@ApiTags('zones')
@ApiBearerAuth()
@Controller('v1')
export class ZonesController {
  constructor(
    private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('zones')
  @RequireScope('validators:read')
  @ApiOperation({
    summary: 'Zones: status, placement, hosts, standbys, and how old the last observation is',
    description:
      'A zone the health loop has never observed has `status: "unknown"` and `lastObservedAt: null` — never a made-up "healthy" or 0.',
  })
  async zones(@CurrentPrincipal() p: Principal) {
    const rows = (await this.ds.query(`SELECT * FROM zones`)) as ZoneRow[];
    const byId = new Map(rows.map((r) => [r.id, r]));
    const mine = (await this.ds.query(
      `SELECT zone, count(*)::int AS n FROM validators
        WHERE project_id = $1 AND zone IS NOT NULL AND state NOT IN ('retired', 'failed') GROUP BY zone`,
      [p.projectId],
    )) as { zone: string; n: number }[];
    const incidents = (await this.ds.query(
      `SELECT id, zone FROM incidents WHERE status = 'open' AND zone IS NOT NULL`,
    )) as { id: string; zone: string }[];
    return {
      items: this.config.cloud.zones.map((id) => {
        const z = byId.get(id);
        return {
          id,
          status: z?.status ?? 'unknown',
          placementAllowed: z?.placement_allowed ?? null,
          reason: z?.reason ?? null,
          statusSince: z?.status_since.toISOString() ?? null,
          hosts: z ? z.hosts : null,
          unhealthyHosts: z ? z.unhealthy : null,
          standbys: z ? z.standbys : null,
          stock: z?.stock ?? {},
          validators: mine.find((m) => m.zone === id)?.n ?? 0,
          openIncidentId: incidents.find((i) => i.zone === id)?.id ?? null,
          lastObservedAt: z?.last_observed_at?.toISOString() ?? null,
          observedAgeSeconds: age(z?.last_observed_at ?? null),
        };
      }),
    };
  }

  @Get('incidents')
  @RequireScope('validators:read')
  @ApiOperation({
    summary: 'Incidents, newest first: per zone, or the control plane suspecting itself',
  })
  @ApiQuery({ name: 'status', required: false, enum: ['open', 'closed'] })
  @ApiLimitQuery()
  async incidents(
    @CurrentPrincipal() p: Principal,
    @Query('status') status?: string,
    @Query('limit') limit?: string,
  ) {
    if (status !== undefined && status !== 'open' && status !== 'closed') {
      throw badRequest('status: must be open or closed.');
    }
    const n = parseLimit(limit);
    const rows = (await this.ds.query(
      `SELECT i.*, coalesce((
           SELECT json_agg(json_build_object('id', v.id, 'name', v.name, 'state', v.state,
                    'zone', CASE WHEN v.state IN ('retiring', 'retired') THEN NULL ELSE v.zone END,
                    'instanceId', CASE WHEN v.state IN ('retiring', 'retired') THEN NULL ELSE v.instance_id END)
                  ORDER BY v.name)
             FROM validators v WHERE v.id = ANY(i.affected_validators) AND v.project_id = $1), '[]') AS mine
         FROM incidents i WHERE ($2::text IS NULL OR i.status = $2)
        ORDER BY i.opened_at DESC LIMIT $3`,
      [p.projectId, status ?? null, n],
    )) as {
      id: string;
      zone: string | null;
      kind: string;
      severity: string;
      status: string;
      summary: string;
      mine: {
        id: string;
        name: string;
        state: string;
        zone: string | null;
        instanceId: string | null;
      }[];
      opened_at: Date;
      closed_at: Date | null;
    }[];
    return {
      items: rows.map((r) => ({
        id: r.id,
        zone: r.zone,
        kind: r.kind,
        severity: r.severity,
        status: r.status,
        summary: r.summary,
        affectedValidators: r.mine.map((v) => v.id),
        // Each affected validator as it stands now: where it runs (null once retired), its state.
        affected: r.mine,
        openedAt: r.opened_at.toISOString(),
        closedAt: r.closed_at?.toISOString() ?? null,
      })),
    };
  }
}
