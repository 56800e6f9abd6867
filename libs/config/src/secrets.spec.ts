import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';
import { loadOrCreateMasterKey } from './secrets';

describe(loadOrCreateMasterKey.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'snowline-master-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const config = (dataDir: string) => loadConfig({ SNOWLINE_DATA_DIR: dataDir });

  it('should create a 32-byte key once (mode 0600, a warning), then read the same key', () => {
    const dataDir = join(dir, 'data');
    const warnings: string[] = [];
    const first = loadOrCreateMasterKey(config(dataDir), (m) => warnings.push(m));
    expect(first).toHaveLength(32);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('Back it up');
    expect(warnings[0]).not.toContain(first.toString('base64'));
    expect(statSync(join(dataDir, 'master-key')).mode & 0o777).toBe(0o600);
    const again = loadOrCreateMasterKey(config(dataDir), (m) => warnings.push(m));
    expect(again.equals(first)).toBe(true);
    expect(warnings).toHaveLength(1);
    // Only the key is left: the file it was written to first is gone.
    expect(readdirSync(dataDir)).toEqual(['master-key']);
  });

  it('should refuse a key file that does not hold a 32-byte key, and leave it alone', () => {
    writeFileSync(join(dir, 'master-key'), 'c2hvcnQ=\n');
    expect(() => loadOrCreateMasterKey(config(dir))).toThrow('does not hold a 32-byte base64 key');
    expect(readdirSync(dir)).toEqual(['master-key']);
  });

  it('should use SNOWLINE_MASTER_KEY and write nothing when it is set', () => {
    const key = Buffer.alloc(32, 7);
    const c = loadConfig({ SNOWLINE_DATA_DIR: dir, SNOWLINE_MASTER_KEY: key.toString('base64') });
    expect(loadOrCreateMasterKey(c).equals(key)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });
});
