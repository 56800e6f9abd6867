import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { OpenAPIObject } from '@nestjs/swagger';
import {
  buildOpenApiDocument,
  documentText,
  DOCUMENT_PATH,
  SCHEMA_PATH,
  schemaText,
} from '../../scripts/openapi';
import { startApiApp, type ApiApp } from '../support/api-app';

const run = promisify(execFile);
const REDOCLY = join(__dirname, '../../node_modules/.bin/redocly');
const REGENERATE = 'stale: run npm run openapi:generate and commit docs/openapi.json and schema.ts';

type Op = { security?: Record<string, string[]>[] };

describe('OpenAPI document', () => {
  let h: ApiApp;
  let doc: OpenAPIObject;
  let dir: string;

  beforeAll(async () => {
    h = await startApiApp('openapi');
    doc = await buildOpenApiDocument();
    dir = mkdtempSync(join(tmpdir(), 'snowline-openapi-test-'));
  });
  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should serve at /docs-json the document the generator builds without a database', async () => {
    expect(await (await h.api('/docs-json', { key: null })).json()).toEqual(doc);
  });

  it('should pass redocly lint with the recommended rules, without errors or warnings', async () => {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, documentText(doc));
    // The JSON report (stdout); the Node-version notice on stderr is not a finding.
    const out = await run(REDOCLY, ['lint', '--extends', 'recommended', '--format', 'json', file], {
      cwd: dir, // no redocly.yaml here can turn a rule off
    }).catch((err: { stdout?: string }) => err);
    const report = JSON.parse(out.stdout ?? '{}') as { totals?: unknown; problems?: unknown[] };
    expect(report.problems).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
  }, 60_000);

  it('should write nullable fields as 3.1 type arrays', () => {
    expect(JSON.stringify(doc)).not.toContain('"nullable"');
    expect(JSON.stringify(doc)).toContain('"null"');
  });

  it('should match the committed docs/openapi.json and generated client types', async () => {
    if (readFileSync(DOCUMENT_PATH, 'utf8') !== documentText(doc))
      throw new Error(`${DOCUMENT_PATH} ${REGENERATE}`);
    const committed = readFileSync(SCHEMA_PATH, 'utf8');
    const file = join(dir, 'fresh.json');
    writeFileSync(file, documentText(doc));
    const fresh = schemaText(file);
    if (committed !== fresh) throw new Error(`${SCHEMA_PATH} ${REGENERATE}`);
  }, 60_000);

  it('should say which operations need a key, as the API enforces it', async () => {
    const checked: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, Op>)) {
        if (path === '/v1/events/stream' || path === '/metrics') continue; // streams / scrape below
        const url = path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
        const res = await h.api(url, {
          method: method.toUpperCase(),
          key: null,
          json: method === 'get' || method === 'delete' ? undefined : {},
        });
        await res.body?.cancel();
        const needsKey = !!op.security?.length;
        expect({ method, path, status401: res.status === 401 }).toEqual({
          method,
          path,
          status401: needsKey,
        });
        checked.push(`${method} ${path}`);
      }
    }
    expect(checked.length).toBeGreaterThan(20);
    expect((doc.paths['/metrics'] as Record<string, Op>)['get']!.security).toEqual([]);
    expect((await h.api('/metrics', { key: null })).status).toBe(200);
    const stream = (doc.paths['/v1/events/stream'] as Record<string, Op>)['get']!;
    expect(stream.security).toEqual([{ bearer: [] }]);
    expect((await h.api('/v1/events/stream', { key: null })).status).toBe(401);
  });
});
