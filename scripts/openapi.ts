import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { OpenAPIObject } from '@nestjs/swagger';
import { loadConfig } from '@snowline/config';
import { openApiDocument, openApiOnlyApp } from '../apps/api/src/create-app';

const ROOT = resolve(__dirname, __dirname.endsWith(join('dist', 'scripts')) ? '../..' : '..');
export const DOCUMENT_PATH = join(ROOT, 'docs/openapi.json');
export const SCHEMA_PATH = join(ROOT, 'libs/api-client/src/schema.ts');

/** The API's OpenAPI document, from its module graph alone (no database, Redis or port). */
export async function buildOpenApiDocument(): Promise<OpenAPIObject> {
  const dataDir = mkdtempSync(join(tmpdir(), 'snowline-openapi-'));
  try {
    // Placeholders: preview mode instantiates no provider, so nothing connects or reads a key.
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: 'postgres://openapi@127.0.0.1:1/openapi',
      REDIS_URL: 'redis://127.0.0.1:1',
      SNOWLINE_ADMIN_KEY: `sl_admin_${'0'.repeat(32)}`,
      SNOWLINE_MASTER_KEY: Buffer.alloc(32).toString('base64'),
      SNOWLINE_DATA_DIR: dataDir,
    });
    const app = await openApiOnlyApp(config);
    try {
      return openApiDocument(app);
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** docs/openapi.json as committed: the document, two-space JSON, one trailing newline. */
export const documentText = (doc: OpenAPIObject) => JSON.stringify(doc, null, 2) + '\n';

/**
 * libs/api-client/src/schema.ts as committed: openapi-typescript's types for the document in
 * `docFile`, prettier-formatted. Its CLI, in a child process: the package is ESM inside, which
 * jest's module loader cannot require (prettier's API neither).
 */
export function schemaText(docFile: string): string {
  const bin = (name: string, file: string) => join(ROOT, 'node_modules', name, file);
  const types = execFileSync(process.execPath, [bin('openapi-typescript', 'bin/cli.js'), docFile], {
    maxBuffer: 64 << 20,
  });
  return execFileSync(
    process.execPath,
    [bin('prettier', 'bin/prettier.cjs'), '--stdin-filepath', SCHEMA_PATH],
    {
      input: types,
      maxBuffer: 64 << 20,
      encoding: 'utf8',
    },
  );
}

/** `npm run openapi:generate`: writes docs/openapi.json and the typed client's schema.ts. */
async function main() {
  const doc = await buildOpenApiDocument();
  mkdirSync(dirname(SCHEMA_PATH), { recursive: true });
  writeFileSync(DOCUMENT_PATH, documentText(doc));
  writeFileSync(SCHEMA_PATH, schemaText(DOCUMENT_PATH));
  process.stdout.write(`wrote ${DOCUMENT_PATH} and ${SCHEMA_PATH}\n`);
}

if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`openapi:generate: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
