import { decideLease, type LeaseInput } from './lease';

const H = 'host-1';
const holder: LeaseInput = {
  hostId: H,
  host: {
    exists: true,
    deleted: false,
    fenced: false,
    role: 'assigned',
    validatorId: 'v-1',
    generation: 4,
    leaseExpiresAt: 100_000,
    keysFetchedGeneration: 4,
  },
  validator: { state: 'active', hostId: H, generation: 4 },
  requestGeneration: 4,
  now: 90_000,
};
const host = (h: Partial<LeaseInput['host']>): LeaseInput => ({
  ...holder,
  host: { ...holder.host, ...h },
});
const standby = host({ role: 'standby', validatorId: null, generation: null });

describe(decideLease.name, () => {
  it.each<[string, LeaseInput, ReturnType<typeof decideLease>]>([
    ['the holder renews', holder, { kind: 'renew', rearm: false, expiredForMs: 0 }],
    [
      // Issue 16: a control-plane outage longer than the TTL must not fence the fleet for good.
      'the holder renews after its lease ran out while the control plane was away',
      { ...holder, now: 130_000 },
      { kind: 'renew', rearm: false, expiredForMs: 30_000 },
    ],
    [
      'the holder that self-fenced during the outage is re-armed',
      { ...holder, now: 130_000, requestGeneration: null },
      { kind: 'renew', rearm: true, expiredForMs: 30_000 },
    ],
    [
      'an agent restart (keys served, node not running) is re-armed',
      { ...holder, requestGeneration: null },
      { kind: 'renew', rearm: true, expiredForMs: 0 },
    ],
    [
      'a new holder that has not fetched its keys yet is not re-armed',
      { ...host({ keysFetchedGeneration: 3 }), requestGeneration: null },
      { kind: 'renew', rearm: false, expiredForMs: 0 },
    ],
    [
      'a holder reporting another generation is fenced',
      { ...holder, requestGeneration: 3 },
      { kind: 'fence', reason: 'The node runs generation 3, not 4.' },
    ],
    [
      'a host the identity moved away from is fenced, expired or not',
      { ...holder, validator: { state: 'failing_over', hostId: 'host-2', generation: 5 } },
      { kind: 'fence', reason: 'Generation 4 is stale; the validator moved on to 5.' },
    ],
    [
      'a former holder whose lease ran out is fenced too',
      {
        ...holder,
        now: 130_000,
        requestGeneration: null,
        validator: { state: 'active', hostId: 'host-2', generation: 5 },
      },
      { kind: 'fence', reason: 'Generation 4 is stale; the validator moved on to 5.' },
    ],
    [
      'same host, older generation (a move back is a new generation)',
      { ...holder, validator: { state: 'active', hostId: H, generation: 6 } },
      { kind: 'fence', reason: 'Generation 4 is stale; the validator moved on to 6.' },
    ],
    [
      'a launch in flight, not yet recorded by the worker',
      {
        ...holder,
        requestGeneration: null,
        validator: { state: 'failing_over', hostId: null, generation: 4 },
      },
      { kind: 'launching' },
    ],
    [
      'a host-less validator of another generation fences the host',
      { ...holder, validator: { state: 'provisioning', hostId: null, generation: 5 } },
      { kind: 'fence', reason: 'Generation 4 is stale; the validator moved on to 5.' },
    ],
    ...(['retiring', 'retired', 'failed'] as const).map(
      (state): [string, LeaseInput, ReturnType<typeof decideLease>] => [
        `a ${state} validator fences its host`,
        { ...holder, validator: { state, hostId: H, generation: 4 } },
        { kind: 'fence', reason: 'The validator was retired.' },
      ],
    ),
    [
      'a vanished validator fences its host',
      { ...holder, validator: null },
      { kind: 'fence', reason: 'The validator was retired.' },
    ],
    [
      'a fenced host stays fenced',
      host({ fenced: true }),
      { kind: 'fence', reason: 'This host has been retired.' },
    ],
    [
      'a deleted host is fenced',
      host({ deleted: true }),
      { kind: 'fence', reason: 'This host has been retired.' },
    ],
    [
      'an unknown host is fenced',
      host({ exists: false }),
      { kind: 'fence', reason: 'This host has been retired.' },
    ],
    ['a standby renews', { ...standby, requestGeneration: null }, { kind: 'standby' }],
    [
      'a standby whose lease ran out renews',
      { ...standby, requestGeneration: null, now: 500_000 },
      { kind: 'standby' },
    ],
    [
      'a standby that runs an identity is fenced',
      standby,
      { kind: 'fence', reason: 'This host holds no identity any more.' },
    ],
  ])('%s', (_label, input, expected) => {
    expect(decideLease(input)).toEqual(expected);
  });
});
