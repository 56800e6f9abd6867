/** The simulator's ground truth: which node runs which NodeID, sampled to prove none runs twice. */
export interface SimNode {
  instanceId: string;
  zone: string;
  nodeId: string | null;
  running: boolean;
  bootstrapped?: boolean | null;
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
