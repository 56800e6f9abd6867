import {
  generateIdentity,
  getCurrentValidatorsResultSchema,
  getL1ValidatorResultSchema,
  getValidatorFeeStateResultSchema,
  type GeneratedIdentity,
  PermissionlessValidator,
  uptimeResultSchema,
} from '@snowline/avalanche';
import {
  DUPLICATE_UPTIME_CREDIT,
  handleNetworkRpc,
  L1_MIN_FEE_NAVAX_PER_SECOND,
  NetworkView,
  PChainRejected,
  type NodeClaim,
} from './pchain';

const HOUR = 3600_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');

describe(NetworkView.name, () => {
  let id: GeneratedIdentity;
  let other: GeneratedIdentity;
  beforeAll(async () => {
    [id, other] = await Promise.all([generateIdentity(), generateIdentity()]);
  });

  let wall: number;
  let view: NetworkView;
  beforeEach(() => {
    wall = T0;
    view = new NetworkView({ now: () => wall, backgroundStake: 0n });
  });

  const register = (who: GeneratedIdentity, extra: Record<string, unknown> = {}) =>
    view.register({
      nodeId: who.nodeId,
      blsPublicKey: who.blsPublicKey,
      proofOfPossession: who.proofOfPossession,
      weight: '2000000000000',
      endTime: Math.floor((T0 + 48 * HOUR) / 1000),
      ...extra,
    });
  const on = (nodeId: string, instanceId = 'i-1', reachable = true): NodeClaim => ({
    instanceId,
    nodeId,
    reachable,
  });
  /** Advances the wall clock hour by hour, sampling what `claims` says each time. */
  const run = (hours: number, claims: NodeClaim[]) => {
    for (let h = 0; h < hours; h++) {
      wall += HOUR;
      view.sample(claims);
    }
  };
  const current = (nodeId = id.nodeId): PermissionlessValidator => {
    const r = getCurrentValidatorsResultSchema.parse(
      view.getCurrentValidators({ nodeIDs: [nodeId] }),
    );
    return r.validators[0] as PermissionlessValidator;
  };

  describe('proof of possession', () => {
    it('should accept the PoP the identity generator made', () => {
      expect(register(id).txID).toMatch(/^[1-9A-HJ-NP-Za-km-z]+$/);
    });

    it('should refuse a tampered PoP', () => {
      const last = id.proofOfPossession.slice(-1);
      const tampered = id.proofOfPossession.slice(0, -1) + (last === '0' ? '1' : '0');
      expect(() => register(id, { proofOfPossession: tampered })).toThrow(
        new PChainRejected('invalid proof of possession'),
      );
    });

    it("should refuse another key's PoP", () => {
      expect(() => register(id, { proofOfPossession: other.proofOfPossession })).toThrow(
        PChainRejected,
      );
    });

    it('should refuse a second validation of the same NodeID', () => {
      register(id);
      expect(() => register(id)).toThrow(/duplicate validator/);
    });
  });

  describe('uptime', () => {
    it.each([
      // [what, claims for 10 h, expected uptime %]
      ['one reachable node: accrues', () => [on(id.nodeId)], 100],
      ['no node: stops', () => [], 0],
      ['its zone partitioned: stops', () => [on(id.nodeId, 'i-1', false)], 0],
      [
        'two reachable nodes claiming it: suffers',
        () => [on(id.nodeId, 'i-1'), on(id.nodeId, 'i-2')],
        DUPLICATE_UPTIME_CREDIT * 100,
      ],
      [
        'two nodes, one unreachable: accrues',
        () => [on(id.nodeId, 'i-1'), on(id.nodeId, 'i-2', false)],
        100,
      ],
      ['another NodeID running: stops', () => [on(other.nodeId)], 0],
    ])('%s', (_what, claims, expected) => {
      register(id);
      run(10, claims());
      expect(Number(current().uptime)).toBeCloseTo(expected, 3);
    });

    it('should count the downtime against the time since start (6 h up, 4 h down = 60 %)', () => {
      register(id);
      run(6, [on(id.nodeId)]);
      run(4, []);
      const v = current();
      expect(v.uptime).toBe('60.0000');
      expect(v.connected).toBe(false);
      run(10, [on(id.nodeId)]);
      expect(current().uptime).toBe('80.0000');
      expect(current().connected).toBe(true);
    });

    it('should stop at endTime and drop the validator from the current set', () => {
      register(id);
      run(47, [on(id.nodeId)]);
      expect(current()).toBeDefined();
      run(2, [on(id.nodeId)]);
      expect(view.getCurrentValidators({}).validators).toEqual([]);
      expect(view.list()[0]).toMatchObject({ current: false, uptime: '100.0000' });
    });

    it('should run the P-chain clock at 1/timeScale', () => {
      view = new NetworkView({ now: () => wall, timeScale: 0.001, backgroundStake: 0n });
      wall += 3600; // 3.6 s of wall time = 1 h on the P-chain
      expect(view.getTimestamp().timestamp).toBe(new Date(T0 + HOUR).toISOString());
    });
  });

  describe('info.uptime', () => {
    it('should weigh the peers measurements by stake, its own stake at 100 %', () => {
      view = new NetworkView({ now: () => wall, backgroundStake: 8_000_000_000_000n });
      register(id);
      run(10, [on(id.nodeId)]);
      run(10, []);
      // 2,000 AVAX own at 100 %, 8,000 AVAX of peers measuring 50 %: (2000·100 + 8000·50) / 10000.
      const up = uptimeResultSchema.parse(view.nodeUptime(id.nodeId));
      expect(up.weightedAveragePercentage).toBe('60.0000');
      // 50 % < 80 %: only its own stake would reward it.
      expect(up.rewardingStakePercentage).toBe('20.0000');
    });

    it('should need 90 % for a validation starting after Helicon, 80 % before', () => {
      expect(view.uptimeRequirement(Date.parse('2026-09-22T14:59:59Z'))).toBe(0.8);
      expect(view.uptimeRequirement(Date.parse('2026-09-22T15:00:00Z'))).toBe(0.9);
    });

    it('should fail as AvalancheGo does for a node that is not a validator', () => {
      const res = handleNetworkRpc(view, '/ext/info', id.nodeId, {
        jsonrpc: '2.0',
        id: 1,
        method: 'info.uptime',
      });
      expect(res).toEqual({
        jsonrpc: '2.0',
        id: 1,
        error: { code: -32000, message: "couldn't get node uptime: node is not a validator" },
      });
    });
  });

  describe('L1 validators', () => {
    const subnetId = '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';

    it('should pay the minimum fee from the balance, down to 0', () => {
      const tx = register(id, {
        subnetId,
        endTime: undefined,
        balance: String(L1_MIN_FEE_NAVAX_PER_SECOND * 7200n),
      });
      wall += HOUR;
      const l1 = getL1ValidatorResultSchema.parse(
        view.getL1Validator({ validationID: tx.validationID }),
      );
      expect(l1).toMatchObject({
        nodeID: id.nodeId,
        subnetID: subnetId,
        balance: String(L1_MIN_FEE_NAVAX_PER_SECOND * 3600n),
        publicKey: id.blsPublicKey,
      });
      wall += 2 * HOUR;
      expect(view.getL1Validator({ validationID: tx.validationID }).balance).toBe('0');
      expect(view.getCurrentValidators({ subnetID: subnetId }).validators).toHaveLength(1);
    });

    it('should answer platform.getValidatorFeeState with the fee rate, as numbers', () => {
      const res = handleNetworkRpc(view, '/ext/bc/P', id.nodeId, {
        jsonrpc: '2.0',
        id: 7,
        method: 'platform.getValidatorFeeState',
      }) as { result: unknown };
      expect(res.result).toEqual({
        excess: 0,
        price: Number(L1_MIN_FEE_NAVAX_PER_SECOND),
        timestamp: new Date(view.pchainNow()).toISOString(),
      });
      expect(getValidatorFeeStateResultSchema.parse(res.result).price).toBe('512');
    });

    it('should refuse an L1 validator without a balance', () => {
      expect(() => register(id, { subnetId, endTime: undefined })).toThrow(/balance/);
    });
  });
});
