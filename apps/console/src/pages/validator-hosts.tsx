import type { HostCheck, HostRecord, Validator, ValidatorHosts } from '../api';
import type { Resource } from '../live';
import { Ago, Badge, Empty, ErrorBox, fmtAge, HeaderRow, Loading, Unknown } from '../ui';

/** The server's age of an observation, carried forward by the time since the answer arrived. */
function liveAge(ageSeconds: number | null, fetchedAt: number, now: number): number | null {
  return ageSeconds === null ? null : ageSeconds + Math.max(0, (now - fetchedAt) / 1000);
}

function CheckRow({ c, fetchedAt, now }: { c: HostCheck; fetchedAt: number; now: number }) {
  const age = liveAge(c.ageSeconds, fetchedAt, now);
  // A value that was current when fetched goes stale on screen too, until the next answer.
  const staleNow =
    c.value !== null && c.staleAfterSeconds !== null && age !== null && age > c.staleAfterSeconds;
  const value = staleNow ? null : c.value;
  const lastKnown = staleNow ? c.value : c.lastKnown;
  const status = staleNow ? 'unknown' : c.status;
  return (
    <tr role="row" data-check={c.name} data-status={status}>
      <th scope="row" role="rowheader" data-label="Check">
        {c.label}
      </th>
      <td role="cell" data-label="Result">
        <Badge value={status} />
      </td>
      <td role="cell" data-label="Value" className="check-value">
        {value !== null ? (
          <strong>{value}</strong>
        ) : lastKnown !== null ? (
          <Unknown>
            — last known <strong>{lastKnown}</strong>
            {age !== null ? <>, {fmtAge(age)} ago</> : null}
          </Unknown>
        ) : (
          <Unknown />
        )}
      </td>
      <td role="cell" data-label="Observed">
        {age === null ? (
          <Unknown>— never</Unknown>
        ) : (
          <time dateTime={c.observedAt ?? undefined} title={c.observedAt ?? undefined}>
            {fmtAge(age)} ago
          </time>
        )}
      </td>
      <td role="cell" data-label="Detail" className="check-detail">
        {staleNow ? `No observation for ${fmtAge(age ?? 0)}; last seen: ${c.value}` : c.detail}
      </td>
    </tr>
  );
}

const NO_HOST: Partial<Record<Validator['state'], string>> = {
  pending: 'It is waiting for its staking identity; Snowline places it right after.',
  provisioning: 'An instance is being launched for it.',
  failing_over: 'Its identity is moving; the new host’s checks appear once it holds it.',
  retiring: 'It is being retired: its hosts are fenced and deleted.',
  retired: 'It is retired and runs nowhere.',
  failed: 'It failed before it could run anywhere; see its reason above.',
};

/** Both cards render the one `GET /v1/validators/:id/hosts` answer the detail page holds. */
type HostsProps = { v: Validator; hosts: Resource<ValidatorHosts>; now: number };

export function HealthChecks({ v, hosts, now }: HostsProps) {
  const d = hosts.data;
  return (
    <section aria-labelledby="checks-h" className="card">
      <h2 id="checks-h">Health checks</h2>
      {hosts.error && !d ? (
        <ErrorBox error={hosts.error} retry={hosts.reload} />
      ) : !d ? (
        <Loading what="health checks" />
      ) : !d.health ? (
        <Empty title="No current host">
          <p className="small">{NO_HOST[v.state] ?? 'It runs on no host right now.'}</p>
        </Empty>
      ) : (
        <>
          {hosts.error ? (
            <p className="warn-text small" role="status">
              Could not refresh: {hosts.error.message} Showing the last answer, received{' '}
              {fmtAge((now - hosts.fetchedAt) / 1000)} ago.
            </p>
          ) : null}
          <div className="table-wrap" tabIndex={0} role="region" aria-labelledby="checks-caption">
            <table className="stack checks" role="table">
              <caption id="checks-caption">
                Latest observations of{' '}
                {d.health.instanceId ? <code>{d.health.instanceId}</code> : 'the current host'} in{' '}
                <span className="checks-zone">{d.health.zone}</span>
              </caption>
              <HeaderRow columns={['Check', 'Result', 'Value', 'Observed', 'Detail']} />
              <tbody role="rowgroup">
                {d.health.checks.map((c) => (
                  <CheckRow key={c.name} c={c} fetchedAt={hosts.fetchedAt} now={now} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function Ended({ h, now }: { h: HostRecord; now: number }) {
  if (h.status === 'current') return <span className="muted-text">still running it</span>;
  if (h.status === 'starting') return <span className="muted-text">starting</span>;
  return h.endedAt ? <Ago iso={h.endedAt} now={now} /> : <Unknown />;
}

export function HostHistory({ v, hosts, now }: HostsProps) {
  const d = hosts.data;
  return (
    <section aria-labelledby="hosts-h">
      <h2 id="hosts-h">Host history</h2>
      {hosts.error && !d ? (
        <ErrorBox error={hosts.error} retry={hosts.reload} />
      ) : !d ? (
        <Loading what="host history" />
      ) : d.items.length === 0 ? (
        <Empty title="No host yet">
          <p className="small">
            {NO_HOST[v.state] ?? 'Every instance this validator runs on will be listed here.'}
          </p>
        </Empty>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-labelledby="hosts-caption">
          <table className="stack hosts" role="table">
            <caption id="hosts-caption">
              {d.items.length} host{d.items.length === 1 ? '' : 's'} this validator has run on,
              newest first{d.nextCursor ? ' (the most recent 50)' : ''}
            </caption>
            <HeaderRow
              columns={[
                'Zone',
                'Instance',
                'Tenure',
                'Role',
                'Generation',
                'Started',
                'Ended',
                'Why it ended',
              ]}
            />
            <tbody role="rowgroup">
              {d.items.map((h) => (
                <tr key={h.id} role="row" data-host={h.id} data-tenure={h.status}>
                  <th scope="row" role="rowheader" data-label="Zone" className="host-zone">
                    {h.zone}
                  </th>
                  <td role="cell" data-label="Instance">
                    {h.instanceId ? (
                      <code>{h.instanceId}</code>
                    ) : (
                      <span className="muted-text">being launched</span>
                    )}
                    <span className="muted-text block">{h.instanceType}</span>
                    {h.version !== undefined ? (
                      <span className="muted-text block">
                        avalanchego {h.version ?? <Unknown />}
                        {h.runningVersion && h.runningVersion !== h.version
                          ? ` · runs ${h.runningVersion}`
                          : null}
                        {h.runningVersion === null && h.status === 'current' ? (
                          <>
                            {' '}
                            · runs <Unknown />
                          </>
                        ) : null}
                      </span>
                    ) : null}
                  </td>
                  <td role="cell" data-label="Tenure">
                    <Badge value={h.status} />
                    {h.fenced && h.status !== 'current' ? (
                      <span className="tag">fenced</span>
                    ) : null}
                  </td>
                  <td role="cell" data-label="Role">
                    {h.role}
                  </td>
                  <td role="cell" data-label="Generation">
                    {h.generation ?? <Unknown />}
                  </td>
                  <td role="cell" data-label="Started">
                    <Ago iso={h.startedAt} now={now} />
                  </td>
                  <td role="cell" data-label="Ended">
                    <Ended h={h} now={now} />
                  </td>
                  <td role="cell" data-label="Why it ended" className="host-reason">
                    {h.status === 'current' || h.status === 'starting' ? (
                      <span className="muted-text">not ended</span>
                    ) : h.endReason ? (
                      h.endReason
                    ) : (
                      <Unknown />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
