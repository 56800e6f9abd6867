import type { Validator } from '../api';
import { Ago, Badge, fmtAge, Unknown } from '../ui';

/** A validator's `staking` block, as the API's document declares it. */
export type Staking = Validator['staking'];
type Budget = NonNullable<Staking['budget']>;

const pct = (f: number) => `${+(f * 100).toFixed(2)} %`;

const STATUS_LABEL: Record<Staking['status'], string> = {
  unknown: 'unknown',
  not_registered: 'not registered',
  registered: 'registered (uptime not measured)',
  ok: 'on track',
  at_risk: 'at risk',
  lost: 'reward lost',
};
export function StakingBadge({ status }: { status: Staking['status'] }) {
  return <Badge value={status} label={STATUS_LABEL[status]} />;
}

/** "35 min of 1 h 12 min left (48 %)", or how far over a lost budget is. */
export function budgetText(b: Budget): string {
  if (b.leftSeconds < 0)
    return `none left: ${fmtAge(-b.leftSeconds)} over its ${fmtAge(b.totalSeconds)}`;
  const share = b.leftFraction === null ? '' : ` (${Math.floor(b.leftFraction * 100)} %)`;
  return `${fmtAge(b.leftSeconds)} of ${fmtAge(b.totalSeconds)} left${share}`;
}

/** Why there is nothing current to show: never observed, or how old the last view is. */
function UnknownView({ s, now }: { s: Staking; now: number }) {
  const last = s.lastKnown;
  return (
    <>
      <p className="staking-unknown">
        <Unknown>
          {s.observedAt ? (
            <>
              — the last view is <Ago iso={s.observedAt} now={now} />, older than{' '}
              {fmtAge(s.staleAfterSeconds)}
            </>
          ) : (
            <>— never observed: no node has reported on it yet</>
          )}
        </Unknown>
      </p>
      {last ? (
        <p className="small" data-last-known={last.status}>
          Then it was {STATUS_LABEL[last.status]}
          {last.budget ? `, ${budgetText(last.budget)}` : ''}
          {last.uptime ? `, uptime ${pct(last.uptime.value)}` : ''}. Not current: shown apart, not
          as a figure of now.
        </p>
      ) : null}
    </>
  );
}

/** The downtime budget left as a meter, with its figures as the label (no bar when unknown). */
function BudgetMeter({ b, status }: { b: Budget; status: Staking['status'] }) {
  const text = budgetText(b);
  return (
    <div className="budget" data-status={status}>
      <meter
        id="budget-meter"
        className={`budget-bar budget-${status}`}
        min={0}
        max={Math.max(1, b.totalSeconds)}
        value={Math.max(0, Math.min(b.leftSeconds, b.totalSeconds))}
        aria-labelledby="budget-label"
        aria-valuetext={text}
      />
      <span id="budget-label" className="block">
        <span className="visually-hidden">Downtime budget: </span>
        {text}
      </span>
      <span className="block muted-text">
        {fmtAge(b.usedSeconds)} down of the {fmtAge(b.totalSeconds)} it may be
      </span>
    </div>
  );
}

const when = (iso: string | null) =>
  iso ? (
    <time dateTime={iso}>{new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC</time>
  ) : (
    <Unknown />
  );

/**
 * The validator's staking as the network measures it: status, requirement and why, uptime and whose,
 * the downtime budget left as a bar, the stake window and the reward. A stale or never-made view is
 * unknown with its age — no figure, no bar.
 */
export function StakingCard({ s, now }: { s: Staking; now: number }) {
  return (
    <section
      aria-labelledby="staking-h"
      className="card staking-card"
      data-staking-status={s.status}
    >
      <header>
        <h2 id="staking-h">Staking</h2>
        <StakingBadge status={s.status} />
      </header>
      {s.status === 'unknown' ? (
        <UnknownView s={s} now={now} />
      ) : (
        <dl className="facts wide">
          <div>
            <dt>Requirement</dt>
            <dd data-fact="requirement">
              {s.requirement ? (
                <>
                  {pct(s.requirement.value)} uptime
                  <span className="block muted-text">{s.requirement.reason}</span>
                </>
              ) : (
                <span className="muted-text">none — not a primary-network stake</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Uptime, as the network measures it</dt>
            <dd data-fact="uptime">
              {s.uptime ? (
                <>
                  {pct(s.uptime.value)}
                  <span className="block muted-text">
                    {s.uptime.source === 'peer'
                      ? `by ${s.uptime.observers} peer${s.uptime.observers === 1 ? '' : 's'}`
                      : 'by its own node only (no peer answered)'}
                  </span>
                </>
              ) : (
                <span className="muted-text">not measured</span>
              )}
            </dd>
          </div>
          <div className="span-2">
            <dt>Downtime budget left</dt>
            <dd data-fact="budget">
              {s.budget ? (
                <BudgetMeter b={s.budget} status={s.status} />
              ) : (
                <span className="muted-text">none — not registered or not measured</span>
              )}
            </dd>
          </div>
          {s.l1 ? (
            <div className="span-2">
              <dt>L1 fee balance</dt>
              <dd data-fact="l1-balance" data-low={s.l1.low}>
                {navax(s.l1.balance)}
                {s.l1.daysLeft === null
                  ? ' — no fee charged'
                  : ` — ${+s.l1.daysLeft.toFixed(1)} days of fee`}
                {!s.l1.active ? (
                  <span className="block bad-text">spent: the P-chain deactivated it</span>
                ) : s.l1.low ? (
                  <span className="block warn-text">
                    low: under {s.l1.lowBelowDays} days; top it up (IncreaseL1ValidatorBalanceTx)
                  </span>
                ) : null}
                <span className="block muted-text">
                  at {s.l1.feePrice} nAVAX/s
                  {s.l1.feeSource === 'node'
                    ? ', the P-chain’s price now'
                    : ', the minimum (no node said)'}
                </span>
              </dd>
            </div>
          ) : null}
          <div>
            <dt>Stake</dt>
            <dd data-fact="stake">
              {s.startTime || s.endTime ? (
                <>
                  {when(s.startTime)} → {when(s.endTime)}
                  {s.autoRenew ? <span className="tag">auto-renews</span> : null}
                  {s.periodEnding ? <span className="block warn-text">period ending</span> : null}
                </>
              ) : (
                <span className="muted-text">not registered on the P-chain</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Reward</dt>
            <dd data-fact="reward">
              {s.reward === 'lost' ? (
                <span className="bad-text">lost for this period</span>
              ) : s.reward === 'at_risk' ? (
                <span className="warn-text">at risk</span>
              ) : s.reward === 'on_track' ? (
                'on track'
              ) : (
                <span className="muted-text">none to earn</span>
              )}
              {s.weight ? <span className="block muted-text">stake {navax(s.weight)}</span> : null}
            </dd>
          </div>
          <div>
            <dt>As of</dt>
            <dd data-fact="as-of">
              {s.observedAt ? <Ago iso={s.observedAt} now={now} /> : <Unknown />}
            </dd>
          </div>
        </dl>
      )}
    </section>
  );
}

/** nAVAX (a decimal string) as AVAX, exactly. */
function navax(weight: string): string {
  const n = weight.padStart(10, '0');
  const whole = n.slice(0, -9).replace(/^0+(?=\d)/, '');
  const frac = n.slice(-9).replace(/0+$/, '');
  return `${whole}${frac ? `.${frac}` : ''} AVAX`;
}

/** The validators table's risk cell: the status and what is left, or unknown with its age. */
export function StakingRiskCell({ s, now }: { s: Staking | null | undefined; now: number }) {
  if (!s) return <Unknown>— not reported by this API</Unknown>;
  if (s.status === 'unknown')
    return (
      <span className="staking-risk" data-staking-status="unknown">
        <Unknown />
        <span className="block muted-text">
          {s.observedAt ? (
            <>
              last view <Ago iso={s.observedAt} now={now} />
              {s.lastKnown ? ` (then ${STATUS_LABEL[s.lastKnown.status]})` : ''}
            </>
          ) : (
            'never observed'
          )}
        </span>
      </span>
    );
  return (
    <span className="staking-risk" data-staking-status={s.status}>
      <StakingBadge status={s.status} />
      {s.budget ? <span className="block">{budgetText(s.budget)}</span> : null}
    </span>
  );
}
