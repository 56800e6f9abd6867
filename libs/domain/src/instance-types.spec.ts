import {
  AVALANCHEGO_MIN_HARDWARE,
  instanceTypeProblem,
  validInstanceTypes,
  type OfferedInstanceType,
} from './instance-types';

const t = (instanceType: string, vcpu: number | null, memoryGiB: number | null) =>
  ({ instanceType, vcpu, memoryGiB, zones: ['cn-hongkong-b'] }) satisfies OfferedInstanceType;

const CATALOG = [
  t('ecs.g7.4xlarge', 16, 64),
  t('ecs.g7.2xlarge', 8, 32),
  t('ecs.c7.2xlarge', 8, 16),
  t('ecs.c7.xlarge', 4, 8),
  t('ecs.g7.xlarge', 4, 16),
  t('ecs.r7.2xlarge', 8, 15.5),
];

describe('instanceTypeProblem', () => {
  it('should rely on 8 vCPU / 16 GiB, the reference minimum', () => {
    expect(AVALANCHEGO_MIN_HARDWARE).toEqual({ vcpu: 8, memoryGiB: 16 });
  });

  it('should list the valid types smallest first', () => {
    expect(validInstanceTypes(CATALOG)).toEqual([
      'ecs.c7.2xlarge',
      'ecs.g7.2xlarge',
      'ecs.g7.4xlarge',
    ]);
  });

  it.each([
    ['ecs.g7.2xlarge', null],
    ['ecs.c7.2xlarge', null],
    [
      'ecs.nope.tiny',
      "instanceType: ecs.nope.tiny is not offered in zone cn-hongkong-b; valid types (at least 8 vCPU / 16 GiB, AvalancheGo's minimum): ecs.c7.2xlarge, ecs.g7.2xlarge, ecs.g7.4xlarge.",
    ],
    [
      'ecs.c7.xlarge',
      "instanceType: ecs.c7.xlarge (4 vCPU / 8 GiB) is below AvalancheGo's minimum of 8 vCPU / 16 GiB; valid types: ecs.c7.2xlarge, ecs.g7.2xlarge, ecs.g7.4xlarge.",
    ],
    [
      'ecs.r7.2xlarge',
      "instanceType: ecs.r7.2xlarge (8 vCPU / 15.5 GiB) is below AvalancheGo's minimum of 8 vCPU / 16 GiB; valid types: ecs.c7.2xlarge, ecs.g7.2xlarge, ecs.g7.4xlarge.",
    ],
  ])('should judge %s', (type, problem) => {
    expect(instanceTypeProblem(type, CATALOG, 'zone cn-hongkong-b')).toBe(problem);
  });

  it('should not refuse a type whose size the cloud did not give', () => {
    expect(instanceTypeProblem('ecs.x.big', [t('ecs.x.big', null, null)], 'zone b')).toBeNull();
  });

  it('should name at most a dozen valid types and count the rest', () => {
    const many = Array.from({ length: 15 }, (_, i) =>
      t(`ecs.g7.s${String(i).padStart(2, '0')}`, 8, 32),
    );
    const msg = instanceTypeProblem('ecs.nope', many, 'zone b', 'validators.a.instanceType');
    expect(msg).toMatch(/^validators\.a\.instanceType: ecs\.nope is not offered in zone b;/);
    expect(msg).toMatch(/ecs\.g7\.s11 and 3 more\.$/);
    expect(msg).not.toContain('ecs.g7.s12');
  });

  it('should say so when no offered type meets the minimum', () => {
    expect(instanceTypeProblem('ecs.nope', [t('ecs.c7.xlarge', 4, 8)], 'zone b')).toContain(
      'none of the offered types meets it',
    );
  });
});
