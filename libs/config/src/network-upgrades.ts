import type { NetworkUpgrade } from '@snowline/domain';

/**
 * The published network-upgrade activations, each with where it was read. NETWORK_UPGRADES adds to
 * these (or reschedules one of the same network and name). Past ones stay: the simulator's nodes
 * below them stop validating, as real ones did. Local networks have no calendar (their upgrades are
 * active from genesis), so no entry names `local`.
 */
export const PUBLISHED_NETWORK_UPGRADES: readonly NetworkUpgrade[] = [
  {
    network: 'fuji',
    name: 'Granite',
    activatesAt: Date.parse('2025-10-29T15:00:00Z'),
    minVersion: '1.14.0-fuji',
    source:
      'ava-labs/avalanchego upgrade/upgrade.go at v1.14.0-fuji (b4cae25): Fuji.GraniteTime = 2025-10-29 15:00 UTC',
  },
  {
    network: 'mainnet',
    name: 'Granite',
    activatesAt: Date.parse('2025-11-19T16:00:00Z'),
    minVersion: '1.14.0',
    source:
      'ava-labs/avalanchego upgrade/upgrade.go and RELEASES.md at v1.14.0 (dce38e9): Mainnet.GraniteTime = 2025-11-19 16:00 UTC, "All Mainnet nodes must upgrade before 11 AM ET, November 19th 2025"',
  },
  {
    network: 'fuji',
    name: 'Helicon',
    activatesAt: Date.parse('2026-07-28T15:00:00Z'),
    minVersion: '1.15.0-fuji',
    source:
      'ava-labs/avalanchego upgrade/upgrade.go at v1.15.0-fuji (e8f9781): Fuji.HeliconTime = 2026-07-28 15:00 UTC; RELEASES.md there: "All Fuji nodes must upgrade before 11 AM ET, July 28th 2026"',
  },
  {
    network: 'mainnet',
    name: 'Helicon',
    activatesAt: Date.parse('2026-09-22T15:00:00Z'),
    minVersion: '1.15.0',
    source:
      'github.com/ava-labs/avalanchego/releases/tag/v1.15.0: "schedules the activation of the Helicon network upgrade at 11 AM ET (3 PM UTC) on Tuesday, September 22nd, 2026 on Mainnet"; scheduled by ava-labs/avalanchego#5929 (master at 1cf1fc3, 2026-08-22, still had Mainnet.HeliconTime unscheduled)',
  },
];
