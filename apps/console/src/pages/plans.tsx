import {
  useEffect,
  useRef,
  useState,
  type ChangeEvent,
  type FormEvent,
  type RefObject,
} from 'react';
import {
  ApiError,
  client,
  newIdempotencyKey,
  read,
  type CreatePlan,
  type Plan,
  type PlanAction,
  type PlanActionKind,
  type PlanResult,
} from '../api';
import { live } from '../live';
import { Link, usePageTitle } from '../router';
import { Badge, ErrorBox } from '../ui';

/** Where the file is wrong, as the CLI says it (line and column are 1-based). */
interface FileError {
  line: number;
  column: number;
  message: string;
}

const EXAMPLE = `version: 1
validators:
  fuji-a:
    network: fuji
    zones: [cn-hongkong-b, cn-hongkong-c]
    labels:
      team: core
`;

const ACTION_TONE: Record<PlanActionKind, string> = {
  create: 'good',
  update: 'info',
  replace: 'warn',
  delete: 'bad',
  'no-op': 'muted',
};
const ACTION_SIGN: Record<PlanActionKind, string> = {
  create: '+',
  update: '~',
  replace: '-/+',
  delete: '-',
  'no-op': '=',
};

function ActionBadge({ action }: { action: PlanActionKind }) {
  return (
    <span className={`badge tone-${ACTION_TONE[action]}`} data-action={action}>
      <span aria-hidden="true">{ACTION_SIGN[action]} </span>
      {action}
    </span>
  );
}

const settled = (p: Plan) => p.status === 'applied' || p.status === 'failed';

function summaryText(p: Plan): string {
  const s = p.summary;
  return `${s.create} to create, ${s.update} to update, ${s.replace} to replace, ${s.delete} to delete${s.noop ? `, ${s.noop} unchanged` : ''}`;
}

/** The file in the browser → `POST /v1/plans` (names and public fields only) → apply → follow. */
export function Plans() {
  usePageTitle('Plans');
  const [text, setText] = useState('');
  const [fileErrors, setFileErrors] = useState<FileError[]>([]);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState<'plan' | 'apply' | null>(null);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [followError, setFollowError] = useState<Error | null>(null);
  // One Idempotency-Key per plan: a double click or a retry after a lost answer applies it once.
  const idem = useRef(newIdempotencyKey());
  const editor = useRef<HTMLTextAreaElement>(null);
  const resultRef = useRef<HTMLHeadingElement>(null);

  const upload = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    setText(await file.text());
    setPlan(null);
    setFileErrors([]);
    setError(null);
    e.target.value = '';
  };

  const goTo = (fe: FileError) => {
    const el = editor.current;
    if (!el) return;
    const lines = el.value.split('\n');
    let at = 0;
    for (let i = 0; i < fe.line - 1 && i < lines.length; i++) at += lines[i]!.length + 1;
    at += Math.max(0, fe.column - 1);
    el.focus();
    el.setSelectionRange(at, Math.min(el.value.length, at + 1));
  };

  const makePlan = async (e: FormEvent) => {
    e.preventDefault();
    setBusy('plan');
    setError(null);
    setFileErrors([]);
    setPlan(null);
    try {
      // The parser is the CLI's own (file:line:column errors); loaded only when a plan is asked for.
      const { parseConfigYaml } = await import('../../../../libs/domain/src/plan/parse');
      const parsed = parseConfigYaml(text);
      if (!parsed.ok) {
        setFileErrors(parsed.errors);
        return;
      }
      const validators = Object.entries(parsed.config.validators).map(([name, v]) => {
        const { identity, ...rest } = v;
        return { name, ...rest, hasIdentity: !!identity };
      });
      const withIdentity = validators.filter((v) => v.hasIdentity);
      if (withIdentity.length) {
        setFileErrors(
          withIdentity.map((v) => ({
            ...locate(text, v.name),
            message: `${v.name}: identity import needs the key files, which the console does not read; use \`snowline apply\`, or the Launch page's identity import`,
          })),
        );
        return;
      }
      const p = await read(
        client.POST('/v1/plans', {
          body: { validators: validators.map(({ hasIdentity: _, ...v }) => v) } as CreatePlan,
        }),
      );
      idem.current = newIdempotencyKey();
      setPlan(p);
      requestAnimationFrame(() => resultRef.current?.focus());
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(null);
    }
  };

  const apply = async () => {
    if (!plan) return;
    setBusy('apply');
    setError(null);
    try {
      const p = await read(
        client.POST('/v1/plans/{id}/apply', {
          params: { path: { id: plan.id } },
          body: { holder: 'web console' },
          headers: { 'idempotency-key': idem.current },
        }),
      );
      setPlan(p);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(null);
    }
  };

  // Follow an apply until every validator it touched has settled: poll, and look again at once
  // when the event stream says one of its validators moved.
  const planId = plan?.id;
  const following = plan?.status === 'applying';
  useEffect(() => {
    if (!planId || !following) return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ctl = new AbortController();
    const look = async () => {
      clearTimeout(timer);
      try {
        const p = await read(
          client.GET('/v1/plans/{id}', { params: { path: { id: planId } }, signal: ctl.signal }),
        );
        if (stop) return;
        setFollowError(null);
        setPlan(p);
        if (settled(p)) return;
      } catch (err) {
        if (stop) return;
        setFollowError(err as Error);
      }
      timer = setTimeout(() => void look(), 2000);
    };
    const off = live.onEvent((ev) => {
      if (ev.validatorId || ev.type.startsWith('plan.')) {
        clearTimeout(timer);
        timer = setTimeout(() => void look(), 300);
      }
    });
    timer = setTimeout(() => void look(), 1000);
    return () => {
      stop = true;
      off();
      ctl.abort();
      clearTimeout(timer);
    };
  }, [planId, following]);

  const refusals = plan?.actions.filter((a) => a.refused) ?? [];
  const stale =
    error instanceof ApiError && error.status === 409 && error.problem.code === 'stale_plan';

  return (
    <section className="plans">
      <h1 tabIndex={-1}>Plans</h1>
      <p className="small" id="plans-help">
        Paste or upload a <code>snowline.yaml</code>. <strong>Plan</strong> compares it with the
        project and lists what would change and why; nothing changes until you apply it. The file is
        the truth for the project: validators it does not name are deleted.
      </p>
      <form className="launch plan-form" onSubmit={makePlan} aria-describedby="plans-help">
        <div className="field">
          <label htmlFor="p-file">Upload a file</label>
          <input
            id="p-file"
            type="file"
            accept=".yaml,.yml,text/yaml,application/yaml"
            onChange={(e) => void upload(e)}
          />
        </div>
        <div className="field">
          <label htmlFor="p-yaml">snowline.yaml</label>
          <textarea
            id="p-yaml"
            ref={editor}
            rows={14}
            value={text}
            spellCheck={false}
            autoComplete="off"
            placeholder={EXAMPLE}
            aria-invalid={fileErrors.length ? true : undefined}
            aria-describedby={fileErrors.length ? 'p-errors' : 'p-yaml-help'}
            onChange={(e) => {
              setText(e.target.value);
              if (plan?.status === 'planned') setPlan(null);
            }}
          />
          <p id="p-yaml-help" className="small">
            The same file as <code>snowline plan</code> reads; <code>snowline schema</code> prints
            its JSON Schema.
          </p>
        </div>
        {fileErrors.length ? (
          <div className="state-error" role="alert" id="p-errors">
            <p>
              <strong>
                {fileErrors.length === 1
                  ? 'The file has a problem:'
                  : `The file has ${fileErrors.length} problems:`}
              </strong>
            </p>
            <ul className="file-errors">
              {fileErrors.map((fe, i) => (
                <li key={i}>
                  <button type="button" className="link-button" onClick={() => goTo(fe)}>
                    <code>
                      snowline.yaml:{fe.line}:{fe.column}
                    </code>
                    <span className="visually-hidden">
                      {' '}
                      (go to line {fe.line}, column {fe.column})
                    </span>
                  </button>{' '}
                  {fe.message}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        <div className="actions">
          <button
            type="button"
            onClick={() => {
              setText(EXAMPLE);
              setPlan(null);
              setFileErrors([]);
            }}
          >
            Insert an example
          </button>
          <button type="submit" className="primary" disabled={!text.trim() || busy !== null}>
            {busy === 'plan' ? 'Planning…' : 'Plan'}
          </button>
        </div>
      </form>

      <div aria-live="polite" className="visually-hidden">
        {busy === 'plan' ? 'Planning…' : busy === 'apply' ? 'Applying…' : ''}
      </div>

      {error ? (
        <div className="plan-error">
          <ErrorBox error={error} />
          {stale ? (
            <p className="small">
              The project changed since this plan was made. Press <strong>Plan</strong> again to see
              the plan against the project as it is now.
            </p>
          ) : null}
        </div>
      ) : null}

      {busy === 'plan' ? (
        <p className="state-loading" role="status">
          <span className="spinner" aria-hidden="true" /> Planning…
        </p>
      ) : null}

      {plan ? (
        <PlanView
          plan={plan}
          headingRef={resultRef}
          refusals={refusals}
          busy={busy === 'apply'}
          onApply={() => void apply()}
          followError={followError}
        />
      ) : !busy && !fileErrors.length && !error ? (
        <div className="state-empty">
          <p>
            <strong>No plan yet.</strong>
          </p>
          <p className="small">
            Paste your file above (or insert the example) and press <strong>Plan</strong>.
          </p>
        </div>
      ) : null}
    </section>
  );
}

/** Where `validators.<name>` is in the text, for errors the parser does not place itself. */
function locate(text: string, name: string): { line: number; column: number } {
  const lines = text.split('\n');
  const re = new RegExp(`^(\\s*)["']?${name.replace(/[-]/g, '\\-')}["']?\\s*:`);
  for (let i = 0; i < lines.length; i++) {
    const m = re.exec(lines[i]!);
    if (m) return { line: i + 1, column: m[1]!.length + 1 };
  }
  return { line: 1, column: 1 };
}

function PlanView({
  plan,
  headingRef,
  refusals,
  busy,
  onApply,
  followError,
}: {
  plan: Plan;
  headingRef: RefObject<HTMLHeadingElement | null>;
  refusals: PlanAction[];
  busy: boolean;
  onApply: () => void;
  followError: Error | null;
}) {
  const results = new Map<string, PlanResult>(plan.results.map((r) => [r.name, r]));
  // What the apply retires (a replace retires the old one), listed and confirmed like Retire… is.
  const retiring = plan.actions
    .filter((a) => a.action === 'delete' || a.action === 'replace')
    .map((a) => a.name);
  const confirmApply = () => {
    if (
      !retiring.length ||
      window.confirm(
        `Apply this plan? It retires ${retiring.join(', ')}: their nodes stop validating. This cannot be undone.`,
      )
    )
      onApply();
  };
  const statusLabel: Record<Plan['status'], string> = {
    planned: 'planned, not applied',
    applying: 'applying',
    applied: 'applied',
    failed: 'failed',
  };
  const statusTone: Record<Plan['status'], string> = {
    planned: 'info',
    applying: 'warn',
    applied: 'good',
    failed: 'bad',
  };
  const touched = plan.actions.filter((a) => a.action !== 'no-op');
  const done = plan.results.filter((r) => r.outcome !== 'pending').length;
  return (
    <section className="plan-view" aria-labelledby="plan-heading" data-plan={plan.id}>
      <h2 id="plan-heading" tabIndex={-1} ref={headingRef}>
        Plan{' '}
        <span className={`badge tone-${statusTone[plan.status]}`} data-status={plan.status}>
          {statusLabel[plan.status]}
        </span>
      </h2>
      <p className="small">
        Plan <code>{plan.id}</code>, against state serial {plan.serial}.
      </p>
      <p role="status" className="plan-summary">
        {plan.status === 'planned'
          ? plan.changes
            ? summaryText(plan)
            : 'No changes: the project matches the file.'
          : plan.status === 'applying'
            ? `Applying: ${done} of ${touched.length} settled. Following progress…`
            : plan.status === 'applied'
              ? `Applied: every validator it touched has settled (${summaryText(plan)}).`
              : `The apply failed: ${plan.results
                  .filter((r) => r.outcome === 'failed')
                  .map((r) => `${r.name}${r.detail ? ` (${r.detail})` : ''}`)
                  .join(', ')}.`}
      </p>
      {plan.actions.length === 0 ? (
        <div className="state-empty">
          <p>
            <strong>The file names no validators, and the project has none.</strong>
          </p>
        </div>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">What this plan does, per validator</caption>
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col">Validator</th>
                <th scope="col">Why</th>
                {plan.status !== 'planned' ? <th scope="col">Progress</th> : null}
              </tr>
            </thead>
            <tbody>
              {plan.actions.map((a) => {
                const r = results.get(a.name);
                const vid = r?.validatorId ?? a.validatorId;
                return (
                  <tr key={a.name} data-name={a.name} data-action={a.action}>
                    <td>
                      <ActionBadge action={a.action} />
                    </td>
                    <td>
                      {vid ? <Link to={`/validators/${vid}`}>{a.name}</Link> : a.name}
                      {a.state ? (
                        <span className="block">
                          now <Badge value={a.state} />
                        </span>
                      ) : null}
                    </td>
                    <td>
                      <span className="reason">{a.reason}</span>
                      {a.changes.length && a.action !== 'create' ? (
                        <ul className="changes">
                          {a.changes.map((c) => (
                            <li key={c.field}>
                              {c.field}: <code>{show(c.before)}</code> →{' '}
                              <code>{show(c.after)}</code>
                              {c.forcesReplacement ? ' (forces replacement)' : ''}
                            </li>
                          ))}
                        </ul>
                      ) : null}
                      {a.drift ? <span className="block warn-text">drift: {a.drift}</span> : null}
                      {a.warnings.map((w) => (
                        <span key={w} className="block warn-text">
                          warning: {w}
                        </span>
                      ))}
                      {a.refused ? (
                        <span className="block field-error">refused: {a.refused}</span>
                      ) : null}
                    </td>
                    {plan.status !== 'planned' ? (
                      <td className="progress">
                        {a.action === 'no-op' ? (
                          <span className="small">nothing to do</span>
                        ) : !r ? (
                          <span className="small">waiting</span>
                        ) : (
                          <>
                            <span
                              className={`badge tone-${r.outcome === 'done' ? 'good' : r.outcome === 'failed' ? 'bad' : 'info'}`}
                              data-outcome={r.outcome}
                            >
                              {r.outcome === 'pending' ? 'in progress' : r.outcome}
                            </span>{' '}
                            {r.state ? <Badge value={r.state} /> : null}
                            {r.detail ? <span className="block">{r.detail}</span> : null}
                          </>
                        )}
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {followError ? <ErrorBox error={followError} /> : null}
      {plan.status === 'planned' && plan.changes ? (
        <div className="apply-bar">
          {refusals.length ? (
            <p className="field-error" role="alert">
              This plan cannot be applied:{' '}
              {refusals.map((a) => `${a.name}: ${a.refused}`).join('; ')}.
            </p>
          ) : (
            <p className="small">
              {retiring.length ? <strong>Applying retires {retiring.join(', ')}. </strong> : null}
              Applying takes the project’s apply lock until every validator it touches has settled.
            </p>
          )}
          <button
            type="button"
            className="primary"
            onClick={confirmApply}
            disabled={busy || refusals.length > 0}
          >
            {busy ? 'Applying…' : 'Apply plan'}
          </button>
        </div>
      ) : null}
    </section>
  );
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (Array.isArray(v)) return v.length ? v.join(', ') : '[]';
  if (typeof v === 'object')
    return (
      Object.entries(v as Record<string, string>)
        .map(([k, x]) => `${k}=${x}`)
        .join(', ') || '{}'
    );
  return String(v);
}
