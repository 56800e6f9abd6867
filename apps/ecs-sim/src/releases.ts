/** `GET /_sim/releases/avalanchego-<version>.tar.gz`: the simulator's stand-in for a release tarball. */
export const RELEASE_PATH_RE = /^\/_sim\/releases\/avalanchego-([0-9A-Za-z.-]{1,64})\.tar\.gz$/;

/**
 * The bytes the simulator serves as release `version` (any version: an operator may pin one the
 * simulator has never heard of). AVALANCHEGO_RELEASES' default hashes are of these bytes.
 */
export function simulatedRelease(version: string): Buffer {
  return Buffer.from(`snowline-sim avalanchego ${version}\n`);
}
