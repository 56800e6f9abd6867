import { sha256Hex } from '@snowline/agent';
import { loadConfig } from '@snowline/config';
import { RELEASE_PATH_RE, simulatedRelease } from './releases';

describe(simulatedRelease.name, () => {
  it('should serve, for every release the sim default pins, bytes with that SHA-256', () => {
    const releases = Object.values(loadConfig({}).avalanchego.releases);
    expect(releases.length).toBeGreaterThanOrEqual(7);
    for (const r of releases) {
      const m = RELEASE_PATH_RE.exec(new URL(r.url).pathname);
      expect({ version: r.version, path: m?.[1] }).toEqual({ version: r.version, path: r.version });
      expect({ version: r.version, sha256: sha256Hex(simulatedRelease(r.version)) }).toEqual({
        version: r.version,
        sha256: r.sha256,
      });
    }
  });
});
