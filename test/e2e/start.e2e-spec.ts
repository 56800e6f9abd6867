import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const START = join(__dirname, '..', '..', 'dist', 'scripts', 'start.js');

function start(env: Record<string, string>) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [START], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { ...r, ms: Date.now() - t0 };
}

describe('npm start preflight', () => {
  it('should exit non-zero within 10 s naming Redis when Redis is unreachable', () => {
    const r = start({ REDIS_URL: 'redis://127.0.0.1:1/0' });
    expect(r.status).toBe(1);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.stderr).toMatch(/Redis is unreachable at redis:\/\/127\.0\.0\.1:1\/0: .*ECONNREFUSED/);
    expect(r.stderr).toContain('docker compose up -d postgres redis');
    expect(r.stderr).not.toMatch(/PostgreSQL is unreachable/);
  });

  it('should exit non-zero within 10 s naming PostgreSQL (without its password) when it is unreachable', () => {
    const r = start({ DATABASE_URL: 'postgres://postgres:hunter2secret@127.0.0.1:1/snowline' });
    expect(r.status).toBe(1);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.stderr).toMatch(/PostgreSQL is unreachable/);
    expect(r.stderr).not.toContain('hunter2secret');
  });

  it('should stop at start-up naming a bad setting', () => {
    const r = start({ API_PORT: 'not-a-port' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/API_PORT/);
  });
});
