import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { configJsonSchema, MAX_WEBHOOK_SECRET, MIN_WEBHOOK_SECRET } from '@snowline/domain';
import { compareStakingRisk, type components } from '@snowline/api-client';
import { ApiError, Client } from './client';
import { loadCredentials, saveCredentials } from './config-file';
import { loadFile, UsageError, whereInFile, type LoadedFile } from './load';
import { renderPlan, renderResults, renderStaking, type PlanBody } from './render';
import { colourWanted, makeStyle, type Style } from './style';

// The file's desired state is validated by the API; its shape here is the loader's, not the DTO's.
type CreatePlan = components['schemas']['CreatePlanDto'];
type ApplyPlan = components['schemas']['ApplyPlanDto'];

export const EXIT = { ok: 0, error: 1, changes: 2 } as const;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  stdoutIsTTY: boolean;
  stdinIsTTY: boolean;
  /** Reads one line (confirmation, or the key for `login`). */
  readLine: (prompt: string) => Promise<string>;
}

/** How long apply and destroy wait for a plan to settle, by default (seconds). */
const DEFAULT_TIMEOUT_S = 300;

const USAGE = `snowline — declarative Avalanche validators on Snowline

Usage:
  snowline plan    [-f snowline.yaml|snowline.hcl] [--prune] [--json] [--detailed-exitcode]
  snowline apply   [-f snowline.yaml | --plan ID] [--prune] [--auto-approve] [--timeout S] [--json]
  snowline import  NAME [-f snowline.yaml] [--auto-approve] [--timeout S] [--json]
  snowline destroy [-f snowline.yaml] [--auto-approve] [--timeout S] [--json]
  snowline status  [--json]
  snowline validators ls [--json]
  snowline events  [--follow] [--after ID] [--limit N] [--json]
  snowline login   --url URL [--key KEY]     (or the key on stdin)
  snowline whoami  [--json]                  (the key's project and scopes)
  snowline force-unlock PLAN_ID
  snowline schema                            (JSON Schema of snowline.yaml)

apply changes and retires only the validators the file created or adopted; the others are listed as
unmanaged and left alone. \`import NAME\` adopts one the file names (made over REST or in the console);
\`--prune\` retires the unmanaged ones the file does not name, after listing them.
apply and destroy wait at most --timeout seconds (default ${DEFAULT_TIMEOUT_S}) for the plan to settle; past
it they say what is still in progress and exit 1 (the apply goes on).
Exit codes: 0 success / no changes, 1 error, 2 changes present (plan --detailed-exitcode).
Environment: SNOWLINE_URL and SNOWLINE_API_KEY override \`snowline login\`; NO_COLOR turns colour off.
`;

const OPTIONS = {
  file: { type: 'string', short: 'f' },
  json: { type: 'boolean' },
  'detailed-exitcode': { type: 'boolean' },
  'auto-approve': { type: 'boolean' },
  prune: { type: 'boolean' },
  plan: { type: 'string' },
  follow: { type: 'boolean' },
  after: { type: 'string' },
  limit: { type: 'string' },
  url: { type: 'string' },
  key: { type: 'string' },
  timeout: { type: 'string' },
  color: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = {
  file?: string;
  json?: boolean;
  'detailed-exitcode'?: boolean;
  'auto-approve'?: boolean;
  prune?: boolean;
  plan?: string;
  follow?: boolean;
  after?: string;
  limit?: string;
  url?: string;
  key?: string;
  timeout?: string;
  color?: boolean;
  'no-color'?: boolean;
  help?: boolean;
};

interface Ctx {
  io: Io;
  flags: Flags;
  style: Style;
  client: () => Client;
}

/** Runs one command; returns the exit code. Never throws for a user error. */
export async function run(argv: string[], io: Io): Promise<number> {
  let parsed: { values: Flags; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return EXIT.error;
  }
  const { values: flags, positionals } = parsed;
  const [cmd, ...rest] = positionals;
  if (flags.help || !cmd) {
    (cmd ? io.out : io.err)(USAGE);
    return flags.help ? EXIT.ok : EXIT.error;
  }
  const style = makeStyle(
    colourWanted(io.env, io.stdoutIsTTY, flags['no-color'] ? false : flags.color),
  );
  const ctx: Ctx = {
    io,
    flags,
    style,
    client: () => {
      const c = loadCredentials(io.env);
      if (!c.url || !c.key)
        throw new UsageError(
          'Not logged in: run `snowline login --url URL` or set SNOWLINE_URL and SNOWLINE_API_KEY.',
        );
      return new Client(c.url, c.key);
    },
  };
  try {
    switch (cmd) {
      case 'plan':
        return await plan(ctx);
      case 'apply':
        return await apply(ctx, 'apply');
      case 'destroy':
        return await apply(ctx, 'destroy');
      case 'import':
        if (!rest[0] || rest.length > 1)
          throw new UsageError(
            'Usage: snowline import NAME [-f snowline.yaml] (NAME: a validator made outside the file, named in it).',
          );
        return await apply(ctx, 'apply', [rest[0]]);
      case 'status':
        return await status(ctx);
      case 'validators':
        if (rest[0] !== 'ls' && rest[0] !== 'list')
          throw new UsageError('Usage: snowline validators ls [--json]');
        return await validatorsLs(ctx);
      case 'events':
        return await events(ctx);
      case 'login':
        return await login(ctx);
      case 'whoami':
        return await whoami(ctx);
      case 'force-unlock':
        return await forceUnlock(ctx, rest[0]);
      case 'schema':
        io.out(JSON.stringify(configJsonSchema(), null, 2) + '\n');
        return EXIT.ok;
      default:
        throw new UsageError(`Unknown command "${cmd}".\n\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ApiError) {
      if (flags.json && err instanceof ApiError)
        io.out(JSON.stringify({ error: err.message, ...err.body }, null, 2) + '\n');
      io.err(`${style.red('Error:')} ${err.message}\n`);
      return EXIT.error;
    }
    io.err(`${style.red('Error:')} ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.error;
  }
}

/** -f, else snowline.yaml or snowline.hcl in the working directory (refusing to guess between both). */
function fileOf(ctx: Ctx): string {
  if (ctx.flags.file) return ctx.flags.file;
  const yaml = existsSync('snowline.yaml');
  const hcl = existsSync('snowline.hcl');
  if (yaml && hcl)
    throw new UsageError('Both snowline.yaml and snowline.hcl are here; say which with -f.');
  if (!yaml && !hcl)
    throw new UsageError(
      `No snowline.yaml or snowline.hcl in ${process.cwd()}; write one (docs/cli.md; \`snowline schema\` for editors) or name it with -f.`,
    );
  return hcl ? 'snowline.hcl' : 'snowline.yaml';
}

/** The file, its accepted-but-fixable points printed as warnings (stderr: --json stays clean). */
function load(ctx: Ctx): LoadedFile {
  const f = loadFile(fileOf(ctx));
  for (const w of f.warnings) ctx.io.err(`${ctx.style.yellow('Warning:')} ${w}\n`);
  return f;
}

async function makePlan(
  ctx: Ctx,
  mode: 'apply' | 'destroy',
  f: LoadedFile,
  adopt: string[] = [],
): Promise<PlanBody> {
  const client = ctx.client();
  return locateErrors(
    f,
    client.read(
      client.api.POST('/v1/plans', {
        body: {
          mode,
          validators: f.desired,
          webhooks: f.webhooks,
          ...(f.standbyPools ? { standbyPools: f.standbyPools } : {}),
          ...(adopt.length ? { adopt } : {}),
          ...(ctx.flags.prune && mode === 'apply' ? { prune: true } : {}),
        } as CreatePlan,
      }),
    ),
  );
}

/** A 4xx about a field of the file gets its `file:line:column`, as the CLI's own checks have. */
async function locateErrors<T>(f: LoadedFile, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status < 400 || err.status >= 500) throw err;
    const detail = typeof err.body.detail === 'string' ? err.body.detail : '';
    const where = whereInFile(f, detail);
    if (!where) throw err;
    throw new ApiError(err.status, `${where}: ${err.message}`, err.body);
  }
}

/**
 * The signing secrets an apply needs (webhooks it creates or rotates), read from the variables the
 * file names. Checked before anything is sent; the value is never printed.
 */
export function webhookSecrets(p: PlanBody, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of p.webhooks ?? []) {
    if (!a.needsSecret || !a.desired) continue;
    const name = a.desired.secretEnv;
    const v = env[name];
    const what = a.action === 'create' ? 'creates' : 'rotates the secret of';
    if (!v)
      throw new UsageError(
        `webhooks.${a.name}: this apply ${what} the webhook and needs its signing secret in $${name}, which is not set (e.g. export ${name}=whsec_$(openssl rand -base64 32), and give the receiver the same value).`,
      );
    if (v.length < MIN_WEBHOOK_SECRET || v.length > MAX_WEBHOOK_SECRET || !/^[\x21-\x7e]+$/.test(v))
      throw new UsageError(
        `webhooks.${a.name}: $${name} must hold ${MIN_WEBHOOK_SECRET}–${MAX_WEBHOOK_SECRET} printable characters without spaces (it has ${v.length}); e.g. whsec_$(openssl rand -base64 32).`,
      );
    out[a.name] = v;
  }
  return out;
}

async function plan(ctx: Ctx): Promise<number> {
  const f = load(ctx);
  const p = await makePlan(ctx, 'apply', f);
  if (ctx.flags.json) ctx.io.out(JSON.stringify(p, null, 2) + '\n');
  else ctx.io.out(renderPlan(p, ctx.style, { file: f.file }));
  if (p.summary.refused) return EXIT.error;
  return p.changes && ctx.flags['detailed-exitcode'] ? EXIT.changes : EXIT.ok;
}

async function apply(ctx: Ctx, mode: 'apply' | 'destroy', adopt: string[] = []): Promise<number> {
  const { io, flags, style } = ctx;
  if (flags.prune && mode === 'destroy')
    throw new UsageError('destroy retires only what the file manages; drop --prune.');
  if (flags.prune && flags.plan)
    throw new UsageError('--prune is decided when planning; plan with --prune, or drop --plan.');
  const timeoutS = flags.timeout === undefined ? DEFAULT_TIMEOUT_S : Number(flags.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0)
    throw new UsageError(`--timeout: a number of seconds > 0, got "${flags.timeout}".`);
  const client = ctx.client();
  let f: LoadedFile | null = null;
  let p: PlanBody;
  if (flags.plan) {
    if (mode === 'destroy') throw new UsageError('destroy plans from the file; drop --plan.');
    p = await client.read(
      client.api.GET('/v1/plans/{id}', { params: { path: { id: flags.plan } } }),
    );
    if (flags.file || p.actions.some((a) => a.desired?.identity)) f = load(ctx);
  } else {
    f = load(ctx);
    if (adopt.length && !f.desired.some((d) => d.name === adopt[0]))
      throw new UsageError(
        `${f.file} has no validator ${adopt[0]}: add it (matching the validator's network and instance type) before importing it.`,
      );
    p = await makePlan(ctx, mode, f, adopt);
  }
  if (!flags.json) io.out(renderPlan(p, style, { file: f?.file }));
  if (!p.changes) {
    if (flags.json) io.out(JSON.stringify(p, null, 2) + '\n');
    return EXIT.ok;
  }
  // Before asking: an apply that cannot get its secrets should not be approved first.
  const secrets = webhookSecrets(p, io.env);
  if (!flags['auto-approve']) {
    if (!io.stdinIsTTY)
      throw new UsageError(
        'Not applying: stdin is not a terminal, so nobody can confirm; pass --auto-approve.',
      );
    const pruned = p.actions.filter((a) => a.action === 'delete' && a.unmanaged);
    if (pruned.length)
      io.err(
        `${style.yellow('--prune')} retires ${pruned.length} validator${pruned.length === 1 ? '' : 's'} made outside ${f?.file ?? 'the file'}:\n${pruned.map((a) => `  - ${a.name} (${a.state ?? 'unknown'})\n`).join('')}`,
      );
    const answer = await io.readLine(
      `Apply plan ${p.id.slice(0, 8)}${mode === 'destroy' ? ' (DESTROY)' : ''}${pruned.length ? ` and retire ${pruned.map((a) => a.name).join(', ')}` : ''}? Only "yes" is accepted: `,
    );
    if (answer.trim() !== 'yes') {
      io.err('Apply cancelled.\n');
      return EXIT.error;
    }
  }
  const needed = p.actions
    .filter((a) => (a.action === 'create' || a.action === 'replace') && a.desired?.identity)
    .map((a) => a.name);
  const identities = Object.fromEntries(needed.map((n) => [n, f?.identities[n]]));
  const holder = `${safeUser()}@${hostname()}`;

  // Open the event stream first, so progress from the first action on is seen.
  const abort = new AbortController();
  const seen: Record<string, unknown>[] = [];
  let ids = new Set<string>();
  const terminal = new Set<string>();
  const show = (e: Record<string, unknown>) => {
    if (/^validator\.(active|retired|failed)$/.test(String(e.type)))
      terminal.add(String(e.validatorId));
    if (flags.json) return;
    const t = String(e.type);
    if (t.startsWith('plan.') || ids.has(String(e.validatorId)))
      io.out(
        `  ${style.dim(String(e.createdAt).slice(11, 19))} ${style.cyan(t)} ${String(e.message)}\n`,
      );
  };
  const streamDone = await client
    .stream((e) => (ids.size ? show(e) : seen.push(e)), abort.signal)
    .catch(() => null);
  // The stream only shows progress; polling the plan decides the outcome. A stream that drops
  // mid-apply must not become an unhandled rejection that exits 1 after a successful apply.
  let streamOpen = !!streamDone;
  const streamEnded = streamDone?.done
    .catch(() => undefined)
    .then(() => {
      streamOpen = false;
    });
  let applied: PlanBody;
  try {
    applied = await client.read(
      client.api.POST('/v1/plans/{id}/apply', {
        params: { path: { id: p.id } },
        body: {
          holder,
          ...(needed.length ? { identities } : {}),
          ...(Object.keys(secrets).length ? { webhookSecrets: secrets } : {}),
        } as ApplyPlan,
      }),
    );
    ids = new Set(applied.results.map((r) => r.validatorId).filter((x): x is string => !!x));
    if (!ids.size) ids.add('(none)');
    if (!flags.json) io.out(style.bold(`Applying plan ${p.id.slice(0, 8)}…\n`));
    seen.splice(0).forEach(show);
    const deadline = Date.now() + timeoutS * 1000;
    while (applied.status === 'applying') {
      if (Date.now() > deadline) {
        const open = applied.results
          .filter((r) => r.outcome === 'pending')
          .map((r) => `${r.name} (${r.action}${r.state ? `, now ${r.state}` : ''})`);
        throw new UsageError(
          `Gave up waiting after ${timeoutS} s; still in progress: ${open.join(', ') || 'the plan'}. The apply goes on: follow it with snowline status, or wait longer with --timeout.`,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
      applied = await client.read(
        client.api.GET('/v1/plans/{id}', { params: { path: { id: p.id } } }),
      );
    }
    // The event feed trails the database by a poll interval: let the last events arrive.
    const drainUntil = Date.now() + 3000;
    const settling = applied.results
      .filter((r) => r.action !== 'update' && r.validatorId)
      .map((r) => r.validatorId!);
    while (streamOpen && Date.now() < drainUntil && settling.some((id) => !terminal.has(id)))
      await new Promise((r) => setTimeout(r, 100));
  } finally {
    abort.abort();
    await streamEnded;
  }
  if (flags.json) io.out(JSON.stringify(applied, null, 2) + '\n');
  else io.out(renderResults(applied, style));
  // A retire is done once the identity is fenced; an instance in a zone the cloud cannot reach is
  // deleted later by the reaper. Say which, so nobody thinks it is gone (or forgets it costs).
  const retired = applied.results.filter(
    (r) => (r.action === 'delete' || r.action === 'replace') && r.validatorId,
  );
  for (const r of retired) {
    const hosts = await client
      .read(
        client.api.GET('/v1/validators/{id}/hosts', {
          params: { path: { id: r.validatorId! }, query: { limit: 100 } },
        }),
      )
      .catch(() => null);
    const pending = (hosts?.items ?? []).filter((h) => h.deletionPending && h.instanceId);
    if (pending.length)
      io.err(
        `${style.yellow('Warning:')} ${r.name} is retired, but deletion is pending for ${pending.map((h) => `${h.instanceId} (${h.zone})`).join(', ')}; Snowline deletes ${pending.length === 1 ? 'it' : 'them'} when the cloud can reach ${pending.length === 1 ? 'it' : 'them'} again.\n`,
      );
  }
  return applied.status === 'applied' ? EXIT.ok : EXIT.error;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

type ValidatorRow = components['schemas']['ValidatorDto'];

async function allValidators(client: Client): Promise<ValidatorRow[]> {
  const out: ValidatorRow[] = [];
  let cursor: string | null = null;
  do {
    const page: components['schemas']['ValidatorPageDto'] = await client.read(
      client.api.GET('/v1/validators', {
        params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } },
      }),
    );
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

async function validatorsLs(ctx: Ctx): Promise<number> {
  const rows = (await allValidators(ctx.client())).sort((a, b) => a.name.localeCompare(b.name));
  if (ctx.flags.json) {
    ctx.io.out(JSON.stringify(rows, null, 2) + '\n');
    return EXIT.ok;
  }
  ctx.io.out(
    table([
      ['NAME', 'STATE', 'NETWORK', 'ZONE', 'NODE ID', 'INSTANCE'],
      ...rows.map((v) => [
        v.name + (v.protected ? ' 🔒' : ''),
        v.state,
        v.network,
        v.zone ?? '-',
        v.nodeId ?? '-',
        v.instanceId ?? '-',
      ]),
    ]),
  );
  return EXIT.ok;
}

async function status(ctx: Ctx): Promise<number> {
  const client = ctx.client();
  const rows = await allValidators(client);
  const lock = await client.read(client.api.GET('/v1/plans/lock')).catch((err: unknown) => {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  });
  const byState: Record<string, number> = {};
  for (const v of rows) byState[v.state] = (byState[v.state] ?? 0) + 1;
  const problems = rows.filter((v) => ['failed', 'failing_over', 'degraded'].includes(v.state));
  // A retired validator runs nowhere Snowline watches: its staking is history.
  const staked = rows.filter((v) => v.state !== 'retired');
  if (ctx.flags.json) {
    const staking = staked
      .sort((a, b) => compareStakingRisk(a.staking, b.staking) || a.name.localeCompare(b.name))
      .map((v) => ({ id: v.id, name: v.name, staking: v.staking ?? null }));
    ctx.io.out(JSON.stringify({ validators: byState, lock, problems, staking }, null, 2) + '\n');
    return EXIT.ok;
  }
  const { io, style } = ctx;
  io.out(
    `Validators: ${rows.length}${
      rows.length
        ? ` (${Object.entries(byState)
            .map(([s, n]) => `${n} ${s}`)
            .join(', ')})`
        : ''
    }\n`,
  );
  for (const v of problems)
    io.out(`  ${style.red(v.state)} ${v.name}${v.stateReason ? `: ${v.stateReason}` : ''}\n`);
  io.out(renderStaking(staked, style));
  io.out(
    lock
      ? `Apply lock: held by ${lock.holder} since ${lock.since} (plan ${lock.planId})\n`
      : 'Apply lock: free\n',
  );
  return EXIT.ok;
}

async function events(ctx: Ctx): Promise<number> {
  const client = ctx.client();
  const { io, flags, style } = ctx;
  const print = (e: Record<string, unknown>) =>
    io.out(
      flags.json
        ? JSON.stringify(e) + '\n'
        : `${style.dim(String(e.createdAt))} ${style.cyan(String(e.type))} ${String(e.message)}\n`,
    );
  if (flags.follow) {
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    process.once('SIGTERM', () => abort.abort());
    const { done } = await client.stream(print, abort.signal, flags.after);
    await done;
    return EXIT.ok;
  }
  const limit = Number(flags.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new UsageError('--limit must be an integer from 1 to 100.');
  const page = await client.read(
    client.api.GET('/v1/events', {
      // Without --after: the latest N, oldest of them first (like `tail`); with it, the N after it.
      params: {
        query: {
          limit,
          ...(flags.after ? { after: flags.after } : { newest: 'true' }),
        },
      },
    }),
  );
  page.items.forEach(print);
  return EXIT.ok;
}

async function login(ctx: Ctx): Promise<number> {
  const { io, flags } = ctx;
  const url = (flags.url ?? io.env.SNOWLINE_URL ?? '').replace(/\/+$/, '');
  if (!/^https?:\/\/\S+$/.test(url))
    throw new UsageError(
      'snowline login needs --url http(s)://… (where the Snowline API listens).',
    );
  const key = (flags.key ?? (await io.readLine('API key: '))).trim();
  if (key.length < 16) throw new UsageError('That does not look like a Snowline API key.');
  // Any valid key may log in, whatever its scopes (a read-only or events-only key too).
  const anon = new Client(url, key);
  const me = await anon.read(anon.api.GET('/v1/whoami'));
  const path = saveCredentials(io.env, { url, key });
  io.out(
    `Logged in to ${url} (project ${projectLabel(me)}; ${me.scopes.join(', ')}); saved to ${path} (mode 0600).\n`,
  );
  return EXIT.ok;
}

type Whoami = components['schemas']['WhoamiDto'];

/** `default (0b9d2c1e-…)`: the name people know the project by, and the id to be exact. */
const projectLabel = (me: Whoami) =>
  me.projectName ? `${me.projectName} (${me.projectId})` : me.projectId;

async function whoami(ctx: Ctx): Promise<number> {
  const client = ctx.client();
  const me = await client.read(client.api.GET('/v1/whoami'));
  if (ctx.flags.json) {
    ctx.io.out(JSON.stringify(me, null, 2) + '\n');
    return EXIT.ok;
  }
  ctx.io.out(`project ${projectLabel(me)}\nkey     ${me.keyId}\nscopes  ${me.scopes.join(', ')}\n`);
  return EXIT.ok;
}

async function forceUnlock(ctx: Ctx, planId: string | undefined): Promise<number> {
  if (!planId)
    throw new UsageError('Usage: snowline force-unlock PLAN_ID (see `snowline status`).');
  const client = ctx.client();
  await client.read(client.api.DELETE('/v1/plans/lock', { params: { query: { planId } } }));
  ctx.io.out(`Unlocked: the lock of plan ${planId} is released.\n`);
  return EXIT.ok;
}

/** Real terminal I/O for main.ts. */
export function processIo(): Io {
  return {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    env: process.env,
    stdoutIsTTY: !!process.stdout.isTTY,
    stdinIsTTY: !!process.stdin.isTTY,
    readLine: async (prompt) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(prompt);
      } finally {
        rl.close();
      }
    },
  };
}
