import { useState, type FormEvent } from 'react';
import { ApiError, client, read, session, withKey } from '../api';
import { usePageTitle } from '../router';

/** Checks the key against the API, then keeps it in session storage (gone when the tab closes). */
export function SignIn() {
  usePageTitle('Sign in');
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(() => {
    const reason = sessionStorage.getItem('snowline.signOutReason');
    sessionStorage.removeItem('snowline.signOutReason');
    return reason ? `You were signed out: ${reason}` : null;
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const k = key.trim();
    if (!k) return setError('Enter an API key.');
    setBusy(true);
    setError(null);
    try {
      await read(client.GET('/v1/zones', withKey(k)));
      // Only admin keys may read projects; a narrower key still signs in, without the name.
      let name = 'project name not visible to this key';
      try {
        const projects = await read(client.GET('/v1/projects', withKey(k)));
        if (projects.items.length === 1) name = projects.items[0]!.name;
        else if (projects.items.length > 1) name = `${projects.items[0]!.name} (operator)`;
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 403) throw err;
      }
      session.signIn(k, name);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'That API key is unknown or revoked.'
          : err instanceof ApiError && err.status === 403
            ? `That API key cannot read validators: ${err.message}`
            : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="sign-in">
      <form onSubmit={submit} aria-describedby="sign-in-help" noValidate>
        <h1 tabIndex={-1}>
          <span aria-hidden="true">❄</span> Snowline
        </h1>
        <p id="sign-in-help">
          Sign in with an API key. It is kept in this tab’s session storage only, and sent as an{' '}
          <code>Authorization</code> header — never in a URL.
        </p>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'sign-in-error' : undefined}
          required
        />
        {error ? (
          <p id="sign-in-error" className="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p className="small">
          The first start prints an admin key and writes it to <code>.snowline/admin-key</code>.
        </p>
      </form>
    </main>
  );
}
