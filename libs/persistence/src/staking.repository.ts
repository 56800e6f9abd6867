import type { Tx } from './tx';
import type {
  L1Balance,
  L1Observation,
  Network,
  StakingConditions,
  StakingEventType,
  StakingObservation,
  StakingObserver,
  StakingStatus,
  StakingView,
  ValidatorState,
} from '@snowline/domain';
import { Repo } from './repo';

/** One observation as a staking report gives it (StakingObservation, keyed by NodeID). */
export interface NewStakingObservation extends Omit<StakingObservation, 'observedAt'> {
  nodeId: string;
  /** Null: the primary network. */
  subnetId: string | null;
  connected: boolean | null;
  /** The validator's own node: info.uptime. */
  rewardingStakePercent: number | null;
  weightedAveragePercent: number | null;
  /** An L1 validator's row (subnetId set): what getL1Validator and the fee state said. */
  l1?: {
    validationId: string | null;
    /** nAVAX, decimal. */
    balance: string | null;
    weight: string | null;
    startMs: number | null;
    feePrice: string | null;
  };
}

/** What the staking channel needs to know of the host that reports. */
export interface StakingReporter {
  /** Fenced or deleted: it must not be believed (nor asked anything). */
  retired: boolean;
  /** The network its node runs (a standby's, or its validator's). */
  network: Network | null;
  /** The NodeID of the validator it holds now (its current generation's), or null. */
  ownNodeId: string | null;
  ownGeneration: number | null;
  /** The L1 the validator it holds validates (null: the primary network, or none held). */
  ownSubnetId: string | null;
  /** What the worker asked it to look up. */
  lookup: string[];
}

/** A validator whose staking the worker evaluates, with what it concluded last time. */
export interface StakingSubjectRow {
  validatorId: string;
  projectId: string;
  name: string;
  network: Network;
  nodeId: string;
  /** The L1 it validates; null: the primary network. */
  subnetId: string | null;
  state: ValidatorState;
  zone: string | null;
  hostId: string | null;
  conditions: StakingConditions;
  /** The stored view's status (null: never evaluated). */
  status: StakingStatus | null;
}

/** The stored evaluation of one validator (`validator_staking`). */
export interface StoredStakingView {
  validatorId: string;
  projectId: string;
  network: Network;
  nodeId: string;
  subnetId: string | null;
  view: StakingView;
  /** The control plane's time of the newest observation it rests on (its age is now − this). */
  observedAt: Date | null;
  balance: string | null;
  conditions: StakingConditions;
}

/** Tracked validators of one network in one staking status (as of now), for the metrics scrape. */
export interface StakingStatusCount {
  network: Network;
  status: StakingStatus;
  n: number;
  /** The least budget left among them (ms); null when none has one (or the status is unknown). */
  minBudgetLeftMs: number | null;
  /** The least measured uptime (0–1) among them; null likewise. */
  minUptime: number | null;
}

/** One validator's current staking figures (per-validator metrics, when turned on). */
export interface StakingFigures {
  validatorId: string;
  network: Network;
  status: StakingStatus;
  budgetLeftMs: number | null;
  uptime: number | null;
}

/**
 * Tracked validators (a NodeID, not retired: the staking loop's subjects) with their stored status
 * judged again as of now, as stakingViewAsOf does (libs/domain staking-read.ts): never evaluated,
 * never observed, or observed longer than $1 ms ago by the database's clock → `unknown`.
 */
const JUDGED = `
  SELECT v.id AS validator_id, v.network,
         CASE WHEN s.status IS NULL OR s.observed_at IS NULL
                OR clock_timestamp() - s.observed_at > $1::float8 * interval '1 millisecond'
              THEN 'unknown' ELSE s.status END AS status,
         s.budget_left_ms, s.uptime_percent
    FROM validators v
    LEFT JOIN validator_staking s ON s.validator_id = v.id
   WHERE v.node_id IS NOT NULL AND v.state <> 'retired'`;

type ObservationRow = {
  nodeId: string;
  kind: 'self' | 'peer';
  observedAt: Date;
  pchainTime: Date;
  registered: boolean;
  txId: string | null;
  startTime: Date | null;
  endTime: Date | null;
  weight: string | null;
  autoRenew: boolean | null;
  uptimePercent: number | null;
};

const ms = (d: Date | null): number | null => (d ? d.getTime() : null);
const date = (t: number | null | undefined): Date | null =>
  t === null || t === undefined ? null : new Date(t);

/**
 * The staking aggregate: agents' reports (what each node said of each NodeID, replaced by its next
 * report), the lookups the worker hands each host, and the worker's evaluation per validator. The
 * evaluation (`validator_staking`) is what every surface reads — API, console, CLI, metrics and the
 * failover order — so none of them needs the raw reports.
 */
export class StakingRepository extends Repo {
  async reporter(hostId: string): Promise<StakingReporter | null> {
    const [row] = (await this.ds.query(
      `SELECT (h.fenced OR h.deleted_at IS NOT NULL) AS retired,
              coalesce(v.network, h.network) AS network,
              CASE WHEN h.role = 'assigned' AND v.host_id = h.id AND v.generation = h.generation
                   THEN v.node_id END AS "ownNodeId",
              CASE WHEN h.role = 'assigned' AND v.host_id = h.id THEN h.generation END AS "ownGeneration",
              CASE WHEN h.role = 'assigned' AND v.host_id = h.id THEN v.subnet_id END AS "ownSubnetId",
              coalesce(l.node_ids, '{}') AS lookup
         FROM hosts h
         LEFT JOIN validators v ON v.id = h.validator_id
         LEFT JOIN staking_lookups l ON l.host_id = h.id
        WHERE h.id = $1`,
      [hostId],
    )) as StakingReporter[];
    return row ?? null;
  }

  /** One report: this observer's rows replaced by these, observed now by the database's clock. */
  async replaceObservations(
    hostId: string,
    network: Network,
    rows: NewStakingObservation[],
  ): Promise<void> {
    const col = <T>(f: (r: NewStakingObservation) => T) => rows.map(f);
    await this.ds.transaction(async (tx) => {
      await tx.query(`DELETE FROM staking_observations WHERE observer_host_id = $1`, [hostId]);
      if (!rows.length) return;
      await tx.query(
        `INSERT INTO staking_observations
           (observer_host_id, network, node_id, subnet_id, kind, registered, tx_id, start_time,
            end_time, weight, uptime_percent, connected, auto_renew, rewarding_stake_percent,
            weighted_average_percent, pchain_time, validation_id, balance, fee_price)
         SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[],
           $8::timestamptz[], $9::timestamptz[], $10::numeric[], $11::float8[], $12::boolean[],
           $13::boolean[], $14::float8[], $15::float8[], $16::timestamptz[], $17::text[],
           $18::numeric[], $19::numeric[])`,
        [
          hostId,
          network,
          col((r) => r.nodeId),
          col((r) => r.subnetId),
          col((r) => r.kind),
          col((r) => r.registered),
          col((r) => r.stake?.txId ?? null),
          col((r) => date(r.stake?.startMs ?? r.l1?.startMs)),
          col((r) => date(r.stake?.endMs)),
          col((r) => r.stake?.weight ?? r.l1?.weight ?? null),
          col((r) => (r.uptime === null ? null : r.uptime * 100)),
          col((r) => r.connected),
          col((r) => r.stake?.autoRenew ?? null),
          col((r) => r.rewardingStakePercent),
          col((r) => r.weightedAveragePercent),
          col((r) => new Date(r.pchainTime)),
          col((r) => r.l1?.validationId ?? null),
          col((r) => r.l1?.balance ?? null),
          col((r) => r.l1?.feePrice ?? null),
        ],
      );
    });
  }

  /**
   * Every validator whose staking is tracked: it has a NodeID and is not retired (a `failed` one
   * still validates on the P-chain, and is losing uptime there).
   */
  async subjects(): Promise<StakingSubjectRow[]> {
    const rows = (await this.ds.query(
      `SELECT v.id AS "validatorId", v.project_id AS "projectId", v.name, v.network,
              v.node_id AS "nodeId", v.subnet_id AS "subnetId", v.state, v.zone,
              v.host_id AS "hostId",
              s.period_key AS "periodKey", coalesce(s.raised, '{}') AS raised, s.status
         FROM validators v
         LEFT JOIN validator_staking s ON s.validator_id = v.id
        WHERE v.node_id IS NOT NULL AND v.state <> 'retired'
        ORDER BY v.id`,
    )) as (Omit<StakingSubjectRow, 'conditions'> & {
      periodKey: string | null;
      raised: StakingEventType[];
    })[];
    return rows.map(({ periodKey, raised, ...r }) => ({ ...r, conditions: { periodKey, raised } }));
  }

  /** Hosts whose node can look validators up: healthy, synced, running, on a known network. */
  async observers(): Promise<StakingObserver[]> {
    return (await this.ds.query(
      `SELECT h.id AS "hostId", h.zone, coalesce(v.network, h.network) AS network, h.role
         FROM hosts h
         LEFT JOIN validators v ON v.id = h.validator_id AND h.role = 'assigned'
        WHERE h.deleted_at IS NULL AND NOT h.fenced AND h.health = 'healthy'
          AND h.instance_id IS NOT NULL
          AND (h.last_report->>'running')::boolean IS TRUE
          AND (h.last_report->>'bootstrapped')::boolean IS TRUE
          AND coalesce(v.network, h.network) IS NOT NULL`,
    )) as StakingObserver[];
  }

  /** The latest observations of these NodeIDs on the primary network, by NodeID. */
  async observationsOf(nodeIds: string[]): Promise<Map<string, StakingObservation[]>> {
    const out = new Map<string, StakingObservation[]>();
    if (!nodeIds.length) return out;
    const rows = (await this.ds.query(
      `SELECT node_id AS "nodeId", kind, observed_at AS "observedAt", pchain_time AS "pchainTime",
              registered, tx_id AS "txId", start_time AS "startTime", end_time AS "endTime",
              weight::text AS weight, auto_renew AS "autoRenew",
              coalesce(CASE WHEN kind = 'self' THEN weighted_average_percent END, uptime_percent)
                AS "uptimePercent"
         FROM staking_observations
        WHERE node_id = ANY($1) AND subnet_id IS NULL`,
      [nodeIds],
    )) as ObservationRow[];
    for (const r of rows) {
      const o: StakingObservation = {
        kind: r.kind,
        observedAt: r.observedAt.getTime(),
        pchainTime: r.pchainTime.getTime(),
        registered: r.registered,
        stake:
          r.registered && r.txId && r.startTime && r.endTime
            ? {
                txId: r.txId,
                startMs: r.startTime.getTime(),
                endMs: r.endTime.getTime(),
                weight: r.weight ?? '0',
                autoRenew: r.autoRenew ?? false,
              }
            : null,
        uptime: r.uptimePercent === null ? null : r.uptimePercent / 100,
      };
      out.set(r.nodeId, [...(out.get(r.nodeId) ?? []), o]);
    }
    return out;
  }

  /**
   * The latest observations of these L1 validators (NodeID in its L1), by `l1Key`. Only the
   * validator's own node reports them (the API stores no other).
   */
  async l1ObservationsOf(
    subjects: { nodeId: string; subnetId: string }[],
  ): Promise<Map<string, L1Observation[]>> {
    const out = new Map<string, L1Observation[]>();
    if (!subjects.length) return out;
    const rows = (await this.ds.query(
      `SELECT o.node_id AS "nodeId", o.subnet_id AS "subnetId", o.kind,
              o.observed_at AS "observedAt", o.pchain_time AS "pchainTime", o.registered,
              o.validation_id AS "validationId", o.balance::text AS balance,
              o.weight::text AS weight, o.start_time AS "startTime", o.fee_price::text AS "feePrice"
         FROM staking_observations o
         JOIN unnest($1::text[], $2::text[]) AS s(node_id, subnet_id)
           ON s.node_id = o.node_id AND s.subnet_id = o.subnet_id`,
      [subjects.map((s) => s.nodeId), subjects.map((s) => s.subnetId)],
    )) as {
      nodeId: string;
      subnetId: string;
      kind: 'self' | 'peer';
      observedAt: Date;
      pchainTime: Date;
      registered: boolean;
      validationId: string | null;
      balance: string | null;
      weight: string | null;
      startTime: Date | null;
      feePrice: string | null;
    }[];
    for (const r of rows) {
      const key = l1Key(r.nodeId, r.subnetId);
      out.set(key, [
        ...(out.get(key) ?? []),
        {
          kind: r.kind,
          observedAt: r.observedAt.getTime(),
          pchainTime: r.pchainTime.getTime(),
          registered: r.registered,
          validationId: r.validationId,
          balance: r.balance,
          weight: r.weight,
          startMs: ms(r.startTime),
          feePrice: r.feePrice,
        },
      ]);
    }
    return out;
  }

  /** What each host looks up now. */
  async lookups(): Promise<Map<string, string[]>> {
    const rows = (await this.ds.query(
      `SELECT host_id AS "hostId", node_ids AS "nodeIds" FROM staking_lookups`,
    )) as { hostId: string; nodeIds: string[] }[];
    return new Map(rows.map((r) => [r.hostId, r.nodeIds]));
  }

  /** Sets these hosts' lookups (an empty list deletes the row), in one statement each way. */
  async setLookups(changed: Map<string, string[]>): Promise<void> {
    const set = [...changed].filter(([, ids]) => ids.length);
    const cleared = [...changed].filter(([, ids]) => !ids.length).map(([h]) => h);
    if (set.length) {
      // text[][] must be rectangular: each list travels as one JSON text.
      await this.ds.query(
        `INSERT INTO staking_lookups (host_id, node_ids, updated_at)
         SELECT u.h, ARRAY(SELECT jsonb_array_elements_text(u.ids)), now()
           FROM unnest($1::uuid[], $2::jsonb[]) AS u(h, ids)
           JOIN hosts ON hosts.id = u.h
         ON CONFLICT (host_id) DO UPDATE SET node_ids = EXCLUDED.node_ids, updated_at = now()`,
        [set.map(([h]) => h), set.map(([, ids]) => JSON.stringify(ids))],
      );
    }
    if (cleared.length)
      await this.ds.query(`DELETE FROM staking_lookups WHERE host_id = ANY($1::uuid[])`, [cleared]);
  }

  /** Stores evaluations (one upsert), with the conditions raised so far for each one's period. */
  async saveViews(views: StoredStakingView[], tx?: Tx): Promise<void> {
    if (!views.length) return;
    const col = <T>(f: (r: StoredStakingView) => T) => views.map(f);
    const round = (n: number | undefined) => (n === undefined ? null : Math.round(n));
    await this.em(tx).query(
      `INSERT INTO validator_staking
         (validator_id, project_id, network, node_id, subnet_id, status, last_status, registered,
          tx_id, start_time, end_time, weight, auto_renew, balance, uptime_requirement,
          uptime_percent, uptime_source, observers, budget_ms, downtime_ms, budget_left_ms,
          period_ending, pchain_time, observed_at, period_key, raised, validation_id, fee_price,
          fee_source, fee_days_left, l1_active, balance_low, evaluated_at)
       SELECT v, p, net, node, sub, st, last, reg, tx, st_t, en_t, w, ar, bal, req, up, src, obs,
              b, dt, bl, pe, pt, oa, pk, coalesce(string_to_array(nullif(rs, ''), ','), '{}'),
              vid, fp, fs, fd, act, low, now()
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::boolean[], $9::text[], $10::timestamptz[], $11::timestamptz[],
                     $12::numeric[], $13::boolean[], $14::numeric[], $15::float8[], $16::float8[],
                     $17::text[], $18::int[], $19::bigint[], $20::bigint[], $21::bigint[],
                     $22::boolean[], $23::timestamptz[], $24::timestamptz[], $25::text[], $26::text[],
                     $27::text[], $28::numeric[], $29::text[], $30::float8[], $31::boolean[],
                     $32::boolean[])
              AS u(v, p, net, node, sub, st, last, reg, tx, st_t, en_t, w, ar, bal, req, up, src,
                   obs, b, dt, bl, pe, pt, oa, pk, rs, vid, fp, fs, fd, act, low)
       ON CONFLICT (validator_id) DO UPDATE SET
         status = EXCLUDED.status, last_status = EXCLUDED.last_status,
         registered = EXCLUDED.registered, tx_id = EXCLUDED.tx_id,
         start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time,
         weight = EXCLUDED.weight, auto_renew = EXCLUDED.auto_renew, balance = EXCLUDED.balance,
         uptime_requirement = EXCLUDED.uptime_requirement,
         uptime_percent = EXCLUDED.uptime_percent, uptime_source = EXCLUDED.uptime_source,
         observers = EXCLUDED.observers, budget_ms = EXCLUDED.budget_ms,
         downtime_ms = EXCLUDED.downtime_ms, budget_left_ms = EXCLUDED.budget_left_ms,
         period_ending = EXCLUDED.period_ending, pchain_time = EXCLUDED.pchain_time,
         observed_at = EXCLUDED.observed_at, period_key = EXCLUDED.period_key,
         raised = EXCLUDED.raised, evaluated_at = now(), node_id = EXCLUDED.node_id,
         subnet_id = EXCLUDED.subnet_id, validation_id = EXCLUDED.validation_id,
         fee_price = EXCLUDED.fee_price, fee_source = EXCLUDED.fee_source,
         fee_days_left = EXCLUDED.fee_days_left, l1_active = EXCLUDED.l1_active,
         balance_low = EXCLUDED.balance_low`,
      [
        col((r) => r.validatorId),
        col((r) => r.projectId),
        col((r) => r.network),
        col((r) => r.nodeId),
        col((r) => r.subnetId),
        col((r) => r.view.status),
        col((r) => r.view.lastStatus),
        col((r) => r.view.registered),
        col((r) => r.view.stake?.txId ?? null),
        col((r) => date(r.view.stake?.startMs ?? r.view.l1?.startMs)),
        col((r) => date(r.view.stake?.endMs)),
        col((r) => r.view.stake?.weight ?? r.view.l1?.weight ?? null),
        col((r) => r.view.stake?.autoRenew ?? null),
        col((r) => r.view.l1?.balance ?? r.balance),
        col((r) => r.view.requirement),
        col((r) => (r.view.uptime === null ? null : r.view.uptime * 100)),
        col((r) => r.view.uptimeSource),
        col((r) => r.view.observers),
        col((r) => round(r.view.budget?.budgetMs)),
        col((r) => round(r.view.budget?.downtimeMs)),
        col((r) => round(r.view.budget?.budgetLeftMs)),
        col((r) => r.view.periodEnding),
        col((r) => date(r.view.pchainTime)),
        col((r) => r.observedAt),
        col((r) => r.conditions.periodKey),
        // Event types hold no comma: one text per row, split back into text[].
        col((r) => r.conditions.raised.join(',')),
        col((r) => r.view.l1?.validationId ?? null),
        col((r) => r.view.l1?.feePrice ?? null),
        col((r) => r.view.l1?.feeSource ?? null),
        // No fee (a price of 0) pays forever: not a figure a column or JSON holds.
        col((r) => (r.view.l1 && Number.isFinite(r.view.l1.daysLeft) ? r.view.l1.daysLeft : null)),
        col((r) => r.view.l1?.active ?? null),
        col((r) => r.view.l1?.low ?? null),
      ],
    );
  }

  /** One validator's stored evaluation (null: never evaluated). */
  async viewOf(validatorId: string): Promise<StoredStakingView | null> {
    return (await this.viewsOf([validatorId])).get(validatorId) ?? null;
  }

  /**
   * These validators' stored evaluations, by validator id (one never evaluated is absent). Each
   * view's `ageMs` is measured by the database's clock, the one `observed_at` was written by.
   */
  async viewsOf(validatorIds: string[]): Promise<Map<string, StoredStakingView>> {
    if (!validatorIds.length) return new Map();
    const rows = (await this.ds.query(
      `SELECT validator_id AS "validatorId", project_id AS "projectId", network,
              node_id AS "nodeId", subnet_id AS "subnetId", status, last_status AS "lastStatus",
              registered, tx_id AS "txId", start_time AS "startTime", end_time AS "endTime",
              weight::text AS weight, auto_renew AS "autoRenew", balance::text AS balance,
              uptime_requirement AS requirement, uptime_percent AS "uptimePercent",
              uptime_source AS "uptimeSource", observers, budget_ms::float8 AS "budgetMs",
              downtime_ms::float8 AS "downtimeMs", budget_left_ms::float8 AS "budgetLeftMs",
              period_ending AS "periodEnding", pchain_time AS "pchainTime",
              observed_at AS "observedAt", period_key AS "periodKey", raised,
              validation_id AS "validationId", fee_price::text AS "feePrice",
              fee_source AS "feeSource", fee_days_left AS "feeDaysLeft", l1_active AS "l1Active",
              balance_low AS "balanceLow",
              (extract(epoch FROM clock_timestamp() - observed_at) * 1000)::float8 AS "ageMs"
         FROM validator_staking WHERE validator_id = ANY($1::uuid[])`,
      [validatorIds],
    )) as Record<string, unknown>[];
    return new Map(rows.map((r) => [r.validatorId as string, storedView(r)]));
  }

  /**
   * Tracked validators by network and staking status as of now, in one grouped read (a handful of
   * rows at any fleet size). An unknown view's last figures stay out of its minimums.
   */
  async statusCounts(staleAfterMs: number): Promise<StakingStatusCount[]> {
    return (await this.ds.query(
      `SELECT network, status, count(*)::int AS n,
              min(budget_left_ms) FILTER (WHERE status <> 'unknown')::float8 AS "minBudgetLeftMs",
              (min(uptime_percent) FILTER (WHERE status <> 'unknown') / 100)::float8 AS "minUptime"
         FROM (${JUDGED}) j
        GROUP BY network, status`,
      [staleAfterMs],
    )) as StakingStatusCount[];
  }

  /** The current figures of every tracked validator whose view is current and has any. */
  async figuresForMetrics(staleAfterMs: number): Promise<StakingFigures[]> {
    return (await this.ds.query(
      `SELECT validator_id AS "validatorId", network, status,
              budget_left_ms::float8 AS "budgetLeftMs", (uptime_percent / 100)::float8 AS uptime
         FROM (${JUDGED}) j
        WHERE status <> 'unknown' AND (budget_left_ms IS NOT NULL OR uptime_percent IS NOT NULL)
        ORDER BY validator_id`,
      [staleAfterMs],
    )) as StakingFigures[];
  }

  /** The last known budget of these validators, for the failover order. */
  async urgencyOf(
    validatorIds: string[],
  ): Promise<Map<string, { status: StakingStatus; budgetLeftMs: number | null }>> {
    if (!validatorIds.length) return new Map();
    const rows = (await this.ds.query(
      `SELECT validator_id AS "validatorId", status, budget_left_ms::float8 AS "budgetLeftMs"
         FROM validator_staking WHERE validator_id = ANY($1::uuid[])`,
      [validatorIds],
    )) as { validatorId: string; status: StakingStatus; budgetLeftMs: number | null }[];
    return new Map(
      rows.map((r) => [r.validatorId, { status: r.status, budgetLeftMs: r.budgetLeftMs }]),
    );
  }
}

function storedView(r: Record<string, unknown>): StoredStakingView {
  const d = (k: string) => r[k] as Date | null;
  const n = (k: string) => r[k] as number | null;
  const start = ms(d('startTime'));
  const end = ms(d('endTime'));
  const budgetMs = n('budgetMs');
  return {
    validatorId: r.validatorId as string,
    projectId: r.projectId as string,
    network: r.network as Network,
    nodeId: r.nodeId as string,
    subnetId: r.subnetId as string | null,
    balance: r.balance as string | null,
    observedAt: d('observedAt'),
    conditions: {
      periodKey: r.periodKey as string | null,
      raised: r.raised as StakingEventType[],
    },
    view: {
      status: r.status as StakingStatus,
      lastStatus: r.lastStatus as StakingView['lastStatus'],
      ageMs: n('ageMs') === null ? null : Math.max(0, Math.round(n('ageMs')!)),
      pchainTime: ms(d('pchainTime')),
      registered: r.registered as boolean | null,
      stake:
        r.txId && start !== null && end !== null
          ? {
              txId: r.txId as string,
              startMs: start,
              endMs: end,
              weight: (r.weight as string | null) ?? '0',
              autoRenew: (r.autoRenew as boolean | null) ?? false,
            }
          : null,
      requirement: n('requirement'),
      uptime: n('uptimePercent') === null ? null : n('uptimePercent')! / 100,
      uptimeSource: r.uptimeSource as StakingView['uptimeSource'],
      observers: r.observers as number,
      budget:
        budgetMs === null || start === null || end === null
          ? null
          : {
              durationMs: end - start,
              requirement: n('requirement')!,
              budgetMs,
              downtimeMs: n('downtimeMs')!,
              budgetLeftMs: n('budgetLeftMs')!,
              lost: n('budgetLeftMs')! < 0,
            },
      periodEnding: r.periodEnding as boolean,
      l1: storedL1(r),
    },
  };
}

/** An L1 validator's stored balance view: only with a subnet, a balance and its price. */
function storedL1(r: Record<string, unknown>): L1Balance | null {
  if (!r.subnetId || r.balance === null || r.feePrice === null || r.feeSource === null) return null;
  const days = r.feeDaysLeft as number | null;
  return {
    subnetId: r.subnetId as string,
    validationId: r.validationId as string | null,
    weight: r.weight as string | null,
    startMs: ms(r.startTime as Date | null),
    balance: r.balance as string,
    feePrice: r.feePrice as string,
    feeSource: r.feeSource as L1Balance['feeSource'],
    daysLeft: days ?? Infinity,
    active: (r.l1Active as boolean | null) ?? BigInt(r.balance as string) > 0n,
    low: (r.balanceLow as boolean | null) ?? false,
  };
}

/** The key of one L1 validator's observations: its NodeID in its L1. */
export const l1Key = (nodeId: string, subnetId: string): string => `${nodeId}@${subnetId}`;
