import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');

describe('repository files', () => {
  it('should declare the five services of docker-compose.yml with their ports', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<
        string,
        { ports?: string[]; command?: string[]; environment?: Record<string, string> }
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
    expect(compose.services.api!.ports).toContain('3000:3000');
    expect(compose.services['ecs-sim']!.ports).toContain('3100:3100');
    expect(compose.services.worker!.environment!.DATABASE_URL).toMatch(
      /^postgres:\/\/.*@postgres:5432\//,
    );
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
