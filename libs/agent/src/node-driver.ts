import type { StakingKeyMaterial } from '@snowline/avalanche';
import type { NodeReport } from './protocol';

/** Port for "the AvalancheGo on this host": a real process, or a simulated node in ecs-sim. */
export abstract class NodeDriver {
  /** Start the node with these keys. Idempotent for the same identity; restarts for a different one. */
  abstract start(keys: StakingKeyMaterial): Promise<void>;
  /**
   * Stop the node and forget its keys. Fine to call when stopped. `timeoutMs`: the node must be dead
   * this soon (SIGKILL at the deadline); it can only shorten the driver's own stop timeout.
   */
  abstract stop(timeoutMs?: number): Promise<void>;
  /** What the driver knows right now; `null` fields mean unknown. */
  abstract report(): Promise<NodeReport>;
}
