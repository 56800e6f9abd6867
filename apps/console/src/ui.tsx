import { useState, type ReactNode } from 'react';
import { ApiError, type ValidatorState, type ZoneStatus } from './api';

export function fmtAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60 ? `${s % 60} s` : ''}`.trim();
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

export function secondsSince(iso: string, now: number): number {
  return (now - new Date(iso).getTime()) / 1000;
}

/** "12 s ago", with the exact time on hover and for screen readers. */
export function Ago({ iso, now }: { iso: string; now: number }) {
  return (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {fmtAge(secondsSince(iso, now))} ago
    </time>
  );
}

/** Unknown is said, never shown as 0 or blank. */
export function Unknown({ children }: { children?: ReactNode }) {
  return <span className="unknown">unknown{children ? <> {children}</> : null}</span>;
}

export function Num({ value }: { value: number | null | undefined }) {
  return value === null || value === undefined ? <Unknown /> : <>{value}</>;
}

const STATE_TONE: Record<string, string> = {
  active: 'good',
  healthy: 'good',
  syncing: 'info',
  provisioning: 'info',
  pending: 'info',
  degraded: 'warn',
  impaired: 'warn',
  failing_over: 'warn',
  retiring: 'muted',
  retired: 'muted',
  failed: 'bad',
  dark: 'bad',
  unknown: 'muted',
  open: 'bad',
  closed: 'muted',
  // health checks and host tenures
  pass: 'good',
  warn: 'warn',
  fail: 'bad',
  current: 'good',
  starting: 'info',
  replaced: 'warn',
  ended: 'muted',
  // staking (unknown above)
  ok: 'good',
  at_risk: 'warn',
  lost: 'bad',
  not_registered: 'muted',
  registered: 'info',
};

export function Badge({
  value,
  label,
}: {
  value: ValidatorState | ZoneStatus | string;
  label?: string;
}) {
  return (
    <span className={`badge tone-${STATE_TONE[value] ?? 'muted'}`} data-value={value}>
      {label ?? value.replace('_', ' ')}
    </span>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="state-loading" role="status">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, retry }: { error: Error; retry?: () => void }) {
  const api = error instanceof ApiError ? error : undefined;
  return (
    <div className="state-error" role="alert">
      <p>
        <strong>{api ? api.title : 'Something went wrong'}:</strong> {error.message}
      </p>
      {api?.requestId ? <p className="small">Request id: {api.requestId}</p> : null}
      {retry ? (
        <button type="button" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state-empty">
      <p>
        <strong>{title}</strong>
      </p>
      {children}
    </div>
  );
}

/** A value with a copy button; the text stays selectable when the clipboard is not allowed. */
export function Copyable({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = () => {
    const done = (ok: boolean) => {
      setCopied(ok ? 'yes' : 'no');
      setTimeout(() => setCopied(null), 2000);
    };
    if (!navigator.clipboard) return done(false);
    navigator.clipboard.writeText(value).then(
      () => done(true),
      () => done(false),
    );
  };
  return (
    <span className="copyable">
      <code>{value}</code>
      <button type="button" className="small-button" onClick={copy} aria-label={`Copy ${label}`}>
        Copy
      </button>
      <span role="status" className="copy-status">
        {copied === 'yes' ? 'Copied' : copied === 'no' ? 'Select the text to copy' : ''}
      </span>
    </span>
  );
}

/**
 * A table's header row. The explicit roles keep the table a table for screen readers at phone width,
 * where CSS turns each row into a card (display: block drops the implicit roles).
 */
export function HeaderRow({ columns }: { columns: string[] }) {
  return (
    <thead role="rowgroup">
      <tr role="row">
        {columns.map((c) => (
          <th key={c} scope="col" role="columnheader">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}
