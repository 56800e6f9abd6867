/** The simulator's ground truth: which node runs which NodeID, sampled to prove none runs twice. */
export interface SimNode {
  instanceId: string;
  zone: string;
  /** The instance's ECS status (`Deleted` for a guest still running after its delete). */
  status?: string;
  nodeId: string | null;
  running: boolean;
  bootstrapped?: boolean | null;
  /** Running and still accepted by its peers (false once it missed an activation). */
  validating?: boolean;
  version?: string | null;
}

export async function simNodes(simUrl: string): Promise<SimNode[]> {
  return (await (await fetch(`${simUrl}/_sim/nodes`)).json()) as SimNode[];
}

/** Samples `GET /_sim/nodes` every `everyMs`; records every NodeID seen running on two instances at once. */
export function watchDuplicates(simUrl: string, everyMs = 500) {
  const duplicated = new Set<string>();
  let samples = 0;
  const timer = setInterval(() => {
    void simNodes(simUrl)
      .then((nodes) => {
        samples++;
        const seen = new Map<string, number>();
        for (const n of nodes)
          if (n.running && n.nodeId) seen.set(n.nodeId, (seen.get(n.nodeId) ?? 0) + 1);
        for (const [id, c] of seen) if (c > 1) duplicated.add(id);
      })
      .catch(() => undefined);
  }, everyMs);
  return { stop: () => clearInterval(timer), duplicated, samples: () => samples };
}

/**
 * Samples `GET /_sim/nodes` every `everyMs` and adds up, per NodeID, the time no instance ran it
 * bootstrapped and validating, counted from the first sample that saw it up (a NodeID never seen up has none). A
 * planned move's downtime is the gap between the old node stopping and the new one validating.
 * Resolution: one sampling interval either side of each gap.
 */
export function watchDowntime(simUrl: string, everyMs = 200) {
  const down = new Map<string, number>();
  let prevAt: number | null = null;
  let samples = 0;
  let inFlight = false;
  const timer = setInterval(() => {
    if (inFlight) return; // a slow sample must not overlap the next: the gap is counted once
    inFlight = true;
    const at = Date.now();
    void simNodes(simUrl)
      .then((nodes) => {
        samples++;
        const up = new Set(
          nodes
            .filter((n) => n.running && n.bootstrapped && n.validating !== false && n.nodeId)
            .map((n) => n.nodeId!),
        );
        for (const id of up) if (!down.has(id)) down.set(id, 0);
        if (prevAt !== null)
          for (const id of down.keys())
            if (!up.has(id)) down.set(id, down.get(id)! + (at - prevAt));
        prevAt = at;
      })
      .catch(() => undefined)
      .finally(() => (inFlight = false));
  }, everyMs);
  return {
    stop: () => clearInterval(timer),
    /** Milliseconds each NodeID was down since first seen up. */
    downtimeMs: () => new Map(down),
    samples: () => samples,
    /** Reset the counters (e.g. between two rollouts), keeping which NodeIDs were seen. */
    reset: () => {
      for (const id of down.keys()) down.set(id, 0);
    },
  };
}
