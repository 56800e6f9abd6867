import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const ENTRYPOINTS = ['api', 'worker', 'ecs-sim', 'cli'].map(
  (app) => `dist/apps/${app}/src/main.js`,
);

type Instruction = { op: string; args: string };
type Stage = { from: string; name?: string; instructions: Instruction[] };

/** The Dockerfile as stages of instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const line of logical) {
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!op || args === undefined) throw new Error(`Dockerfile: cannot read "${line}"`);
    if (op.toUpperCase() === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ from: from!, name, instructions: [] });
    } else {
      stages.at(-1)!.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

/** Bare module names that `file` and every local file it requires load, as `tsc` emits them. */
function loadedPackages(file: string, seen = new Set<string>(), found = new Set<string>()) {
  if (seen.has(file)) return found;
  seen.add(file);
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
    if (spec!.startsWith('.')) {
      const base = resolve(dirname(file), spec!);
      const hit = [base, `${base}.js`, join(base, 'index.js')].find(
        (c) => existsSync(c) && statSync(c).isFile(),
      );
      if (!hit) throw new Error(`${file}: cannot resolve ${spec}`);
      loadedPackages(hit, seen, found);
    } else {
      const name = spec!
        .split('/')
        .slice(0, spec!.startsWith('@') ? 2 : 1)
        .join('/');
      if (!builtinModules.includes(name.replace(/^node:/, ''))) found.add(name);
    }
  }
  return found;
}

describe('repository files', () => {
  it('should declare the five services of docker-compose.yml with their ports', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<
        string,
        {
          build?: unknown;
          image?: string;
          ports?: string[];
          command?: string[];
          volumes?: string[];
          environment?: Record<string, string>;
          deploy?: { replicas?: number };
        }
      >;
    };
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'ecs-sim',
      'postgres',
      'redis',
      'worker',
    ]);
    expect(compose.services.postgres!.ports).toContain('5432:5432');
    expect(compose.services.redis!.ports).toContain('6379:6379');
    expect(compose.services.redis!.command!.join(' ')).toContain('--maxmemory-policy noeviction');
    // The replicated control plane: two APIs (host ports 3000 and 3001) and two workers.
    expect(compose.services.api!.ports).toContain('3000-3001:3000');
    expect(compose.services.api!.deploy?.replicas).toBe(2);
    expect(compose.services.worker!.deploy?.replicas).toBe(2);
    // One master key for every replica: one environment, one shared data dir.
    expect(compose.services.worker!.environment).toEqual(compose.services.api!.environment);
    expect(compose.services['ecs-sim']!.ports).toContain('3100:3100');
    expect(compose.services.worker!.environment!.DATABASE_URL).toMatch(
      /^postgres:\/\/.*@postgres:5432\//,
    );
    // Snowline's own services run the image the Dockerfile builds, not a source tree mounted into node.
    for (const name of ['api', 'worker', 'ecs-sim']) {
      const svc = compose.services[name]!;
      expect({ name, build: svc.build, image: svc.image }).toEqual({
        name,
        build: '.',
        image: 'snowline:local',
      });
      expect(svc.volumes?.some((v) => v.startsWith('.:'))).toBe(false);
      expect(ENTRYPOINTS).toContain(svc.command![1]);
    }
    // api and worker read one master key and admin key: the same data volume.
    expect(compose.services.worker!.volumes).toEqual(compose.services.api!.volumes);
  });

  it('should build a multi-stage, non-root image on Node 24 with production dependencies only', () => {
    const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    const runtime = stages.at(-1)!;
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toMatch(/^node:24(-|$)/);
    const ops = (stage: Stage, op: string) =>
      stage.instructions.filter((i) => i.op === op).map((i) => i.args);

    // The last USER wins; root (by name or uid 0) or none at all would run the control plane as root.
    const user = ops(runtime, 'USER').at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    // What runs gets its node_modules from a stage that installed without devDependencies...
    const fromStage = (dest: string) =>
      ops(runtime, 'COPY')
        .map((a) => /^--from=(\S+)\s+(\S+)\s+(\S+)$/.exec(a))
        .find((m) => m && m[3]!.replace(/^\.\//, '') === dest)?.[1];
    const depsStage = stages.find((s) => s.name === fromStage('node_modules'));
    expect(depsStage?.name).toBeDefined();
    expect(ops(depsStage!, 'RUN').join('\n')).toMatch(/npm ci\b[^\n]*--omit=dev/);
    // ...and its dist/ from the stage that ran the build; the runtime stage installs nothing itself.
    const buildStage = stages.find((s) => s.name === fromStage('dist'));
    expect(ops(buildStage!, 'RUN').join('\n')).toContain('npm run build');
    expect(ops(runtime, 'RUN').join('\n')).not.toMatch(/npm (ci|install)/);
    // The default command is an entry point that the build emits.
    expect(JSON.parse(ops(runtime, 'CMD').at(-1)!)).toEqual(['node', ENTRYPOINTS[0]]);
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')).toEqual(
      expect.arrayContaining(['.git', 'node_modules', 'dist', '.snowline', '.env']),
    );
  });

  it('should load only production dependencies from the entry points the image runs', () => {
    // `npm run build` emits these; `npm test` builds before this tier runs.
    const missing = ENTRYPOINTS.filter((e) => !existsSync(join(ROOT, e)));
    expect({ missing, hint: 'run npm run build' }).toEqual({
      missing: [],
      hint: 'run npm run build',
    });
    // What `npm ci --omit=dev` installs at the top level: the lock's packages not marked dev.
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const found = new Set<string>();
    for (const e of ENTRYPOINTS) loadedPackages(join(ROOT, e), new Set(), found);
    expect(found.size).toBeGreaterThan(10);
    const notInImage = [...found].filter((name) => {
      const pkg = lock.packages[`node_modules/${name}`];
      return !pkg || pkg.dev === true;
    });
    expect(notInImage).toEqual([]);
  });

  it('should list every setting of the config schema in .env.example and docs/settings.md', async () => {
    const { envSchema } = await import('@snowline/config');
    const keys = Object.keys(envSchema.shape);
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    // The README links to docs/settings.md, which holds the full table.
    const settings = readFileSync(join(ROOT, 'docs', 'settings.md'), 'utf8');
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('(docs/settings.md)');
    for (const k of keys) {
      expect({ key: k, inExample: example.includes(k) }).toEqual({ key: k, inExample: true });
      expect({ key: k, inSettings: settings.includes(k) }).toEqual({ key: k, inSettings: true });
    }
  });
});
