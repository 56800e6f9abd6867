/** An agent's report of a node that runs nothing (a standby before its first start, or a stranger). */
export const idleNodeReport = () => ({
  running: false,
  nodeId: null,
  healthy: null,
  bootstrapped: null,
  observedAt: new Date().toISOString(),
});
