import { useEffect, useRef, useState } from 'react';
import { ApiError, client, read, type Page, type SnowEvent, type Validator } from '../api';
import { live, useLive, useNow, useResource } from '../live';
import { Link, usePageTitle } from '../router';
import { Ago, Badge, Copyable, Empty, ErrorBox, Loading, Unknown } from '../ui';
import { EventList } from './overview';
import { HealthChecks, HostHistory } from './validator-hosts';
import { HealthCell, Uptime } from './validators';
import { StakingCard } from './validator-staking';
import { until, utcMinute } from '../upgrade-banner';

async function loadTimeline(id: string, signal: AbortSignal): Promise<SnowEvent[]> {
  const out: SnowEvent[] = [];
  let after: string | null = null;
  for (let i = 0; i < 20; i++) {
    const page: Page<SnowEvent> = await read(
      client.GET('/v1/validators/{id}/events', {
        params: { path: { id }, query: { limit: 100, ...(after ? { after } : {}) } },
        signal,
      }),
    );
    out.push(...page.items);
    after = page.nextCursor;
    if (!after) break;
  }
  return out;
}

function RetireDialog({ v, onDone }: { v: Validator; onDone: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const open = () => {
    setError(null);
    ref.current?.showModal();
  };
  const retire = async () => {
    setBusy(true);
    setError(null);
    try {
      await read(client.DELETE('/v1/validators/{id}', { params: { path: { id: v.id } } }));
      ref.current?.close();
      onDone();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="danger" onClick={open}>
        Retire…
      </button>
      <dialog ref={ref} aria-labelledby="retire-h" aria-describedby="retire-desc">
        <h2 id="retire-h">Retire {v.name}?</h2>
        <p id="retire-desc">
          Snowline fences the node (its generation is bumped, so no host may run this identity
          again), deletes its instance and marks it retired. This cannot be undone. The staking
          identity stays encrypted in storage.
        </p>
        {error ? <ErrorBox error={error} /> : null}
        <div className="actions">
          <button type="button" autoFocus onClick={() => ref.current?.close()}>
            Cancel
          </button>
          <button type="button" className="danger" onClick={retire} disabled={busy}>
            {busy ? 'Retiring…' : `Retire ${v.name}`}
          </button>
        </div>
      </dialog>
    </>
  );
}

export function ValidatorDetail({ id }: { id: string }) {
  const now = useNow();
  const feed = useLive();
  const v = useResource(
    (signal) => read(client.GET('/v1/validators/{id}', { params: { path: { id } }, signal })),
    [id],
    {
      refreshOn: (e) => e.validatorId === id,
    },
  );
  usePageTitle(v.data ? `Validator ${v.data.name}` : 'Validator');
  const timeline = useResource((signal) => loadTimeline(id, signal), [id]);
  // Observations change without events (each sweep and renewal confirms them): poll as well.
  const hosts = useResource(
    (signal) => read(client.GET('/v1/validators/{id}/hosts', { params: { path: { id } }, signal })),
    [id],
    { refreshOn: (e) => e.validatorId === id, pollMs: 4000 },
  );
  // Live additions to the timeline, after what was loaded.
  const [liveEvents, setLiveEvents] = useState<SnowEvent[]>([]);
  useEffect(() => {
    setLiveEvents([]);
    return live.onEvent((e) => {
      if (e.validatorId === id)
        setLiveEvents((xs) => (xs.some((x) => x.id === e.id) ? xs : [...xs, e]));
    });
  }, [id]);

  if (v.error && !v.data) {
    const missing = v.error instanceof ApiError && v.error.status === 404;
    return (
      <section>
        <h1 tabIndex={-1}>{missing ? 'Validator not found' : 'Validator'}</h1>
        {missing ? (
          <p>
            No validator with id <code>{id}</code> in this project.{' '}
            <Link to="/validators">Back to validators</Link>.
          </p>
        ) : (
          <ErrorBox error={v.error} retry={v.reload} />
        )}
      </section>
    );
  }
  if (!v.data)
    return (
      <section>
        <h1 tabIndex={-1}>Validator</h1>
        <Loading what="the validator" />
      </section>
    );
  const d = v.data;
  const seen = new Set((timeline.data ?? []).map((e) => e.id));
  const events = [...(timeline.data ?? []), ...liveEvents.filter((e) => !seen.has(e.id))].reverse();
  const canRetire = d.state !== 'retired' && d.state !== 'retiring';
  const retired = d.state === 'retired';
  const currentHost = hosts.data?.items.find((h) => h.id === hosts.data?.currentHostId);
  // The agent's last report: the lease and node checks are observed at it.
  const lastReportAt = hosts.data
    ? (hosts.data.health?.checks.find((c) => c.name === 'lease')?.observedAt ?? null)
    : undefined;

  return (
    <section>
      <p className="crumbs">
        <Link to="/validators">Validators</Link> / {d.name}
      </p>
      <div className="page-head">
        <h1 tabIndex={-1}>
          {d.name} <Badge value={d.state} />
        </h1>
        {canRetire ? (
          d.protected ? (
            <p className="note" id="protected-note">
              <span className="tag">protected</span> Protected validators can’t be retired from the
              console.
            </p>
          ) : (
            <RetireDialog v={d} onDone={v.reload} />
          )
        ) : null}
      </div>
      {d.stateReason ? (
        <p className={d.state === 'failed' ? 'state-error' : 'reason'}>{d.stateReason}</p>
      ) : null}

      <div className="two-col">
        <section aria-labelledby="placement-h" className="card">
          <h2 id="placement-h">Placement and health</h2>
          <dl className="facts wide">
            <div>
              <dt>Zone</dt>
              <dd className="zone-value">
                {retired ? (
                  <span className="muted-text">none — retired (host history below)</span>
                ) : (
                  (d.zone ?? <span className="muted-text">not placed</span>)
                )}
              </dd>
            </div>
            <div>
              <dt>Instance</dt>
              <dd>
                {d.instanceId && !retired ? (
                  <code className="instance-id">{d.instanceId}</code>
                ) : (
                  <span className="muted-text">none</span>
                )}
              </dd>
            </div>
            <div>
              <dt>Instance type</dt>
              <dd>{d.instanceType}</dd>
            </div>
            <div>
              <dt>Network</dt>
              <dd>
                {d.network}
                {d.subnetId ? (
                  <>
                    {' '}
                    · L1 <code>{d.subnetId}</code>
                  </>
                ) : null}
              </dd>
            </div>
            <div>
              <dt>Allowed zones</dt>
              <dd>{d.zones.length ? d.zones.join(', ') : 'any'}</dd>
            </div>
            <div>
              <dt>Generation</dt>
              <dd>{d.generation}</dd>
            </div>
            <div>
              <dt>AvalancheGo</dt>
              <dd>
                <AvalancheGoVersion v={d} now={now} />
              </dd>
            </div>
            <div>
              <dt>Health</dt>
              <dd>
                <HealthCell
                  v={d}
                  events={[...events.slice().reverse(), ...feed.events]}
                  now={now}
                  verdict={currentHost?.lastVerdict}
                  lastReportAt={lastReportAt}
                />
              </dd>
            </div>
            <div>
              <dt>Uptime</dt>
              <dd>
                <Uptime v={d} now={now} />
              </dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>
                <Ago iso={d.createdAt} now={now} />
              </dd>
            </div>
            <div>
              <dt>Labels</dt>
              <dd>
                {Object.keys(d.labels).length
                  ? Object.entries(d.labels).map(([k, val]) => (
                      <span key={k} className="tag">
                        {k}={val}
                      </span>
                    ))
                  : 'none'}
              </dd>
            </div>
          </dl>
        </section>

        <section aria-labelledby="identity-h" className="card">
          <h2 id="identity-h">Public identity</h2>
          <p className="small">
            What <code>AddPermissionlessValidatorTx</code> needs. The private keys never leave
            encrypted storage except to the current host.
            {d.identitySource ? ` Identity: ${d.identitySource}.` : ''}
          </p>
          <dl className="identity">
            <dt>NodeID</dt>
            <dd>
              {d.nodeId ? (
                <Copyable value={d.nodeId} label="NodeID" />
              ) : (
                <Unknown>— being generated</Unknown>
              )}
            </dd>
            <dt>BLS public key</dt>
            <dd>
              {d.blsPublicKey ? (
                <Copyable value={d.blsPublicKey} label="BLS public key" />
              ) : (
                <Unknown>— being generated</Unknown>
              )}
            </dd>
            <dt>Proof of possession</dt>
            <dd>
              {d.proofOfPossession ? (
                <Copyable value={d.proofOfPossession} label="proof of possession" />
              ) : (
                <Unknown>— being generated</Unknown>
              )}
            </dd>
          </dl>
        </section>
      </div>

      <StakingCard s={d.staking} now={now} />
      <HealthChecks v={d} hosts={hosts} now={now} />
      <HostHistory v={d} hosts={hosts} now={now} />

      <section aria-labelledby="timeline-h">
        <h2 id="timeline-h">Timeline</h2>
        {timeline.error && !timeline.data ? (
          <ErrorBox error={timeline.error} retry={timeline.reload} />
        ) : !timeline.data ? (
          <Loading what="the timeline" />
        ) : events.length === 0 ? (
          <Empty title="No events yet" />
        ) : (
          <EventList events={events} now={now} linkValidators={false} />
        )}
      </section>
    </section>
  );
}

/** The spec's version, what the host reports running (unknown when it does not say), the policy and the next deadline. */
function AvalancheGoVersion({ v, now }: { v: Validator; now: number }) {
  if (!v.version) return <Unknown />;
  const running = v.runningVersion;
  const next = v.nextUpgrade;
  return (
    <>
      {v.version}
      {running === null || running === undefined ? (
        <span className="small">
          {' '}
          · running <Unknown />
        </span>
      ) : running !== v.version ? (
        <span className="small"> · running {running}</span>
      ) : null}
      {v.upgradePolicy === 'before-deadline' ? (
        <span className="small"> · upgrade before deadlines</span>
      ) : null}
      {next ? (
        <p className={next.survives === false ? 'small warn-text' : 'small'}>
          {next.name} on {next.network} {until(next.activatesAt, now)} needs {next.minVersion}:{' '}
          {next.survives === true
            ? 'survives'
            : next.survives === false
              ? `will not survive it: upgrade to ${next.minVersion} or later before ${utcMinute(next.activatesAt)}`
              : 'unknown until its host reports its version'}
        </p>
      ) : null}
    </>
  );
}
