import { useRef, useState, type FormEvent } from 'react';
import { ApiError, client, NETWORKS, newIdempotencyKey, read, type CreateValidator } from '../api';
import { useResource } from '../live';
import { navigate, usePageTitle } from '../router';
import { Badge, ErrorBox, Loading } from '../ui';

/**
 * The Idempotency-Key is made once per filled-in form and kept across retries, so a double click or
 * a retry after a lost answer never launches two validators; a successful launch starts a new one.
 */
export function Launch() {
  usePageTitle('Launch a validator');
  const zones = useResource((signal) => read(client.GET('/v1/zones', { signal })), []);
  const versions = useResource(
    (signal) => read(client.GET('/v1/network-upgrades', { signal })),
    [],
  );
  const idem = useRef(newIdempotencyKey());
  const [version, setVersion] = useState('');
  const [upgrade, setUpgrade] = useState<'manual' | 'before-deadline'>('manual');
  const [network, setNetwork] = useState<string>('fuji');
  const [name, setName] = useState('');
  const [instanceType, setInstanceType] = useState('');
  const [subnetId, setSubnetId] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [importing, setImporting] = useState(false);
  const [stakerCrt, setStakerCrt] = useState('');
  const [stakerKey, setStakerKey] = useState('');
  const [signerKey, setSignerKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = { network };
    if (name.trim()) body.name = name.trim();
    if (instanceType.trim()) body.instanceType = instanceType.trim();
    if (subnetId.trim()) body.subnetId = subnetId.trim();
    if (version) body.version = version;
    if (upgrade !== 'manual') body.upgrade = upgrade;
    if (chosen.length) body.zones = chosen;
    if (importing) body.identity = { stakerCrt, stakerKey, signerKey: signerKey.trim() };
    try {
      const v = await read(
        client.POST('/v1/validators', {
          body: body as CreateValidator,
          headers: { 'idempotency-key': idem.current },
        }),
      );
      idem.current = newIdempotencyKey();
      navigate(`/validators/${v.id}`);
    } catch (err) {
      // A 4xx means this request was refused: the next (edited) try is a new request.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 409)
        idem.current = newIdempotencyKey();
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  const toggleZone = (id: string, on: boolean) =>
    setChosen((xs) => (on ? [...xs, id] : xs.filter((x) => x !== id)));

  return (
    <section>
      <h1 tabIndex={-1}>Launch a validator</h1>
      <form className="launch" onSubmit={submit} aria-describedby="launch-help">
        <p id="launch-help" className="small">
          Snowline generates a staking identity (or imports yours), places the node in a healthy
          zone, and shows it <Badge value="active" /> once it has bootstrapped.
        </p>
        <div className="field">
          <label htmlFor="l-network">Network</label>
          <select id="l-network" value={network} onChange={(e) => setNetwork(e.target.value)}>
            {NETWORKS.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="l-name">Name (optional)</label>
          <input
            id="l-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            pattern="[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?"
            aria-describedby="l-name-help"
            autoComplete="off"
          />
          <p id="l-name-help" className="small">
            a–z, 0–9 and -, up to 63 characters. Left empty: <code>{network}-xxxxxx</code>.
          </p>
        </div>
        <div className="field">
          <label htmlFor="l-version">AvalancheGo version</label>
          <select
            id="l-version"
            value={version}
            onChange={(e) => setVersion(e.target.value)}
            aria-describedby="l-version-help"
          >
            <option value="">
              Default
              {versions.data?.defaultVersions[network]
                ? ` (${versions.data.defaultVersions[network]})`
                : ''}
            </option>
            {(versions.data?.releases ?? []).map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <p id="l-version-help" className="small">
            A release the control plane pins by SHA-256; the host downloads and checks it before its
            node runs.
          </p>
        </div>
        <div className="field">
          <label htmlFor="l-upgrade">Upgrades</label>
          <select
            id="l-upgrade"
            value={upgrade}
            onChange={(e) => setUpgrade(e.target.value as 'manual' | 'before-deadline')}
            aria-describedby="l-upgrade-help"
          >
            <option value="manual">Manual</option>
            <option value="before-deadline">Before each network-upgrade deadline</option>
          </select>
          <p id="l-upgrade-help" className="small">
            Either way you are warned ahead of an activation its version will not survive. Before
            each deadline, Snowline gives it a version that survives and moves it onto an upgraded
            standby (a rolling upgrade, no restart in place).
          </p>
        </div>
        <fieldset>
          <legend>Zones (none ticked: any healthy zone)</legend>
          {zones.error ? (
            <ErrorBox error={zones.error} retry={zones.reload} />
          ) : !zones.data ? (
            <Loading what="zones" />
          ) : (
            zones.data.items.map((z) => (
              <label key={z.id} className="check">
                <input
                  type="checkbox"
                  checked={chosen.includes(z.id)}
                  onChange={(e) => toggleZone(z.id, e.target.checked)}
                />{' '}
                {z.id} <Badge value={z.status} />
                {z.placementAllowed === false ? (
                  <span className="small"> placement stopped</span>
                ) : null}
              </label>
            ))
          )}
        </fieldset>
        <div className="field">
          <label htmlFor="l-subnet">L1 subnet id (optional)</label>
          <input
            id="l-subnet"
            value={subnetId}
            onChange={(e) => setSubnetId(e.target.value)}
            pattern="[1-9A-HJ-NP-Za-km-z]{36,50}"
            placeholder="2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r"
            aria-describedby="l-subnet-help"
            autoComplete="off"
            spellCheck={false}
          />
          <p id="l-subnet-help" className="small">
            For an L1 validator (ACP-77): the L1’s subnet id. Its node tracks that L1, its balance
            and days of fee left are watched, and it fails over only onto standbys that already
            track it. It cannot change later. Left empty: a primary-network validator.
          </p>
        </div>
        <div className="field">
          <label htmlFor="l-type">Instance type (optional)</label>
          <input
            id="l-type"
            value={instanceType}
            onChange={(e) => setInstanceType(e.target.value)}
            placeholder="ecs.g7.2xlarge"
            aria-describedby="l-type-help"
            autoComplete="off"
          />
          <p id="l-type-help" className="small">
            Left empty: the control plane’s default.
          </p>
        </div>
        <fieldset>
          <legend>Staking identity</legend>
          <label className="check">
            <input
              type="radio"
              name="identity"
              checked={!importing}
              onChange={() => setImporting(false)}
            />{' '}
            Generate a new one
          </label>
          <label className="check">
            <input
              type="radio"
              name="identity"
              checked={importing}
              onChange={() => setImporting(true)}
            />{' '}
            Import an existing one
          </label>
          {importing ? (
            <div className="import">
              <div className="field">
                <label htmlFor="l-crt">staker.crt (PEM)</label>
                <textarea
                  id="l-crt"
                  rows={4}
                  value={stakerCrt}
                  onChange={(e) => setStakerCrt(e.target.value)}
                  required
                />
              </div>
              <div className="field">
                <label htmlFor="l-key">staker.key (PEM)</label>
                <textarea
                  id="l-key"
                  rows={4}
                  value={stakerKey}
                  onChange={(e) => setStakerKey(e.target.value)}
                  required
                />
              </div>
              <div className="field">
                <label htmlFor="l-signer">signer.key (base64 of the 32 bytes)</label>
                <input
                  id="l-signer"
                  value={signerKey}
                  onChange={(e) => setSignerKey(e.target.value)}
                  required
                  autoComplete="off"
                />
              </div>
              <p className="small">
                Keys are sent once over this connection, stored encrypted and never shown again.
              </p>
            </div>
          ) : null}
        </fieldset>
        {error ? <ErrorBox error={error} /> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Launching…' : 'Launch validator'}
          </button>
        </div>
      </form>
    </section>
  );
}
