import { generateIdentity, GeneratedIdentity, nodeIdFromCertPem } from '@snowline/avalanche';
import { NodeDriver } from './node-driver';
import { nodeReportSchema } from './protocol';

export interface NodeDriverHarness {
  driver: NodeDriver;
  /** Let the node finish bootstrapping (advance a fake clock, or wait). */
  bootstrap(): Promise<void>;
  cleanup?(): Promise<void>;
}

const until = async (fn: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** The behaviour every NodeDriver must show; run against each implementation from a spec file. */
export function describeNodeDriverContract(
  name: string,
  factory: () => Promise<NodeDriverHarness>,
): void {
  describe(`${name} (NodeDriver contract)`, () => {
    let identity: GeneratedIdentity;
    let other: GeneratedIdentity;
    let h: NodeDriverHarness;

    beforeAll(async () => {
      [identity, other] = await Promise.all([generateIdentity(), generateIdentity()]);
    });
    beforeEach(async () => {
      h = await factory();
    });
    afterEach(async () => {
      await h.driver.stop();
      await h.cleanup?.();
    });

    it('should report a valid, not-running node before start', async () => {
      const r = nodeReportSchema.parse(await h.driver.report());
      expect(r.running).toBe(false);
      expect(r.nodeId).toBeNull();
    });

    it("should start → run under the cert's NodeID → bootstrap → stop", async () => {
      await h.driver.start(identity);
      const expected = nodeIdFromCertPem(identity.stakerCrt);
      await until(async () => (await h.driver.report()).nodeId === expected);
      expect(nodeReportSchema.parse(await h.driver.report())).toMatchObject({
        running: true,
        nodeId: expected,
      });

      await h.bootstrap();
      await until(async () => (await h.driver.report()).bootstrapped === true);
      expect(await h.driver.report()).toMatchObject({
        running: true,
        healthy: true,
        bootstrapped: true,
      });

      await h.driver.stop();
      expect(await h.driver.report()).toMatchObject({ running: false, nodeId: null });
    });

    it('should treat a second start with the same keys as a no-op', async () => {
      await h.driver.start(identity);
      await h.bootstrap();
      await until(async () => (await h.driver.report()).bootstrapped === true);
      await h.driver.start(identity);
      // Still the same, already-bootstrapped node: it was not restarted.
      expect(await h.driver.report()).toMatchObject({
        running: true,
        bootstrapped: true,
        nodeId: identity.nodeId,
      });
    });

    it('should switch identity when started with other keys', async () => {
      await h.driver.start(identity);
      await h.driver.start(other);
      await until(async () => (await h.driver.report()).nodeId === other.nodeId);
    });

    it('should accept stop when already stopped', async () => {
      await h.driver.stop();
      await h.driver.start(identity);
      await h.driver.stop();
      await h.driver.stop();
      expect((await h.driver.report()).running).toBe(false);
    });
  });
}
