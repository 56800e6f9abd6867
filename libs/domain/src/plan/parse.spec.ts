import { formatConfigError, nearest, parseConfigYaml } from './parse';
import { configJsonSchema, TOP_FIELDS, WEBHOOK_FIELDS } from './spec';

const GOOD = `version: 1
validators:
  fuji-a:
    network: fuji
    instance_type: ecs.g7.2xlarge
    zones: [cn-hongkong-b, cn-hongkong-c]
    labels:
      team: core
    prevent_destroy: true
  fuji-b:
    network: fuji
    identity:
      staker_crt: keys/b/staker.crt
      staker_key: keys/b/staker.key
      signer_key: keys/b/signer.key
`;

const errorsOf = (text: string) => {
  const r = parseConfigYaml(text, 'snowline.yaml');
  if (r.ok) throw new Error('expected errors');
  return r.errors.map(formatConfigError);
};

describe(parseConfigYaml.name, () => {
  it('should parse a complete file into camelCase specs', () => {
    const r = parseConfigYaml(GOOD);
    expect(r).toEqual({
      ok: true,
      config: {
        version: 1,
        validators: {
          'fuji-a': {
            network: 'fuji',
            instanceType: 'ecs.g7.2xlarge',
            zones: ['cn-hongkong-b', 'cn-hongkong-c'],
            labels: { team: 'core' },
            preventDestroy: true,
          },
          'fuji-b': {
            network: 'fuji',
            identity: {
              stakerCrt: 'keys/b/staker.crt',
              stakerKey: 'keys/b/staker.key',
              signerKey: 'keys/b/signer.key',
            },
          },
        },
      },
    });
  });

  it.each([
    [
      'a YAML syntax error names file:line:column',
      'validators:\n  a:\n    network: [fuji\n',
      /^snowline\.yaml:\d+:\d+: YAML syntax error/,
    ],
    [
      'an unknown field suggests the nearest known one',
      'validators:\n  a:\n    netwrok: fuji\n',
      /^snowline\.yaml:3:5: unknown field "netwrok" in validators\.a; did you mean "network"\?/,
    ],
    [
      'a camelCase field suggests its snake_case name',
      'validators:\n  a:\n    network: fuji\n    preventDestroy: true\n',
      /^snowline\.yaml:4:5: unknown field "preventDestroy".*did you mean "prevent_destroy"/,
    ],
    [
      'an unknown top-level field suggests validators',
      'validator:\n  a:\n    network: fuji\n',
      /^snowline\.yaml:1:1: unknown field "validator" in the top level; did you mean "validators"/,
    ],
    [
      'a bad network lists the good ones, at the value',
      'validators:\n  a:\n    network: moon\n',
      /^snowline\.yaml:3:14: validators\.a\.network: must be one of fuji, mainnet, local/,
    ],
    [
      'a bad name says what a name may hold',
      'validators:\n  Fuji_A:\n    network: fuji\n',
      /^snowline\.yaml:2:3: validator name "Fuji_A" must be/,
    ],
    [
      'a duplicate name is a syntax error, not a silent overwrite',
      'validators:\n  a:\n    network: fuji\n  a:\n    network: fuji\n',
      /^snowline\.yaml:4:3: YAML syntax error: Map keys must be unique/,
    ],
    [
      'a positional list is refused',
      'validators:\n  - network: fuji\n',
      /validators must be a mapping of name → settings \(not a list\)/,
    ],
    [
      'a missing network is named',
      'validators:\n  a:\n    labels: {}\n',
      /^snowline\.yaml:3:5: validators\.a: missing `network`/,
    ],
    [
      'an unquoted number label value asks for quotes',
      'validators:\n  a:\n    network: fuji\n    labels:\n      tier: 1\n',
      /^snowline\.yaml:5:7: validators\.a\.labels: tier must be a string.*quote numbers/,
    ],
    [
      'an incomplete identity names the missing file',
      'validators:\n  a:\n    network: fuji\n    identity:\n      staker_crt: a.crt\n',
      /validators\.a\.identity\.staker_key: a file path is required/,
    ],
    ['an empty file says what it needs', '', /the file is empty/],
  ])('should report %s', (_, text, expected) => {
    expect(errorsOf(text)[0]).toMatch(expected);
  });

  it('should accept an empty validators map', () => {
    expect(parseConfigYaml('validators: {}\n')).toEqual({
      ok: true,
      config: { version: 1, validators: {} },
    });
  });
});

describe(nearest.name, () => {
  it.each([
    ['instnce_type', 'instance_type'],
    ['lables', 'labels'],
    ['zone', 'zones'],
    ['colour', null],
  ])('should suggest for %s: %s', (word, hint) => {
    expect(
      nearest(word, ['network', 'instance_type', 'zones', 'labels', 'prevent_destroy', 'identity']),
    ).toBe(hint);
  });
});

describe(`${configJsonSchema.name}: webhooks and standby_pools`, () => {
  it('should describe every webhook field the parser knows, and standby_pools by network', () => {
    const schema = configJsonSchema() as {
      properties: Record<
        string,
        { additionalProperties: { properties: Record<string, unknown> } } & Record<string, unknown>
      >;
    };
    expect(Object.keys(schema.properties).sort()).toEqual([...TOP_FIELDS].sort());
    expect(Object.keys(schema.properties.webhooks!.additionalProperties.properties).sort()).toEqual(
      Object.keys(WEBHOOK_FIELDS).sort(),
    );
    expect(schema.properties.webhooks!.additionalProperties).toMatchObject({
      required: ['url', 'secret_env'],
    });
    expect(schema.properties.standby_pools).toMatchObject({
      propertyNames: { enum: ['fuji', 'mainnet', 'local'] },
    });
  });
});

describe(configJsonSchema.name, () => {
  it('should describe every validator field the parser knows', () => {
    const schema = configJsonSchema() as {
      properties: { validators: { additionalProperties: { properties: Record<string, unknown> } } };
    };
    expect(
      Object.keys(schema.properties.validators.additionalProperties.properties).sort(),
    ).toEqual([
      'identity',
      'instance_type',
      'labels',
      'network',
      'prevent_destroy',
      'subnet_id',
      'upgrade',
      'version',
      'zones',
    ]);
  });
});

describe('parseConfigYaml: versions', () => {
  it('should read version (canonical) and the upgrade policy', () => {
    const r = parseConfigYaml(
      'version: 1\nvalidators:\n  a:\n    network: fuji\n    version: v1.15.3\n    upgrade: before-deadline\n',
    );
    expect(r).toMatchObject({
      ok: true,
      config: {
        validators: { a: { network: 'fuji', version: '1.15.3', upgrade: 'before-deadline' } },
      },
    });
  });

  it.each<[string, string, RegExp]>([
    [
      'an unquoted two-part version',
      'version: 1.15',
      /4:14: validators\.a\.version: must be an AvalancheGo version like "1\.15\.3".*got 1\.15\)/,
    ],
    ['a word', 'version: latest', /validators\.a\.version: must be an AvalancheGo version/],
    [
      'a Fuji build on mainnet',
      'version: 1.15.0-fuji\n    network: mainnet',
      /validators\.a\.version: 1\.15\.0-fuji is a Fuji pre-release: it refuses to run mainnet/,
    ],
    [
      'an unknown policy',
      'upgrade: asap',
      /validators\.a\.upgrade: must be one of manual, before-deadline \(got "asap"\)/,
    ],
  ])('should refuse %s at its line', (_label, field, message) => {
    const network = field.includes('network:') ? '' : '    network: fuji\n';
    const r = parseConfigYaml(`version: 1\nvalidators:\n  a:\n    ${field}\n${network}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map(formatConfigError).join('\n')).toMatch(message);
  });
});

describe('parseConfigYaml: webhooks and standby_pools', () => {
  const FILE = `validators: {}
webhooks:
  pager:
    url: https://hooks.example.com/snowline
    events: [validator.failed, zone.dark]
    description: on-call
    secret_env: PAGER_WEBHOOK_SECRET
    secret_version: 2
  audit:
    url: https://audit.example.com/in
    enabled: false
    secret_env: AUDIT_SECRET
standby_pools:
  fuji:
    cn-hongkong-b: 2
    cn-hongkong-c: 0
`;

  it('should parse webhooks (the secret only by its variable) and pools', () => {
    expect(parseConfigYaml(FILE)).toEqual({
      ok: true,
      config: {
        version: 1,
        validators: {},
        webhooks: {
          pager: {
            url: 'https://hooks.example.com/snowline',
            events: ['validator.failed', 'zone.dark'],
            description: 'on-call',
            secretEnv: 'PAGER_WEBHOOK_SECRET',
            secretVersion: 2,
          },
          audit: {
            url: 'https://audit.example.com/in',
            enabled: false,
            secretEnv: 'AUDIT_SECRET',
          },
        },
        standbyPools: { fuji: { 'cn-hongkong-b': 2, 'cn-hongkong-c': 0 } },
      },
    });
  });

  it.each([
    [
      'an unknown webhook field suggests the nearest',
      'validators: {}\nwebhooks:\n  pager:\n    url: https://a.example.com/\n    secret_env: S\n    evnts: []\n',
      /^snowline\.yaml:6:5: unknown field "evnts" in webhooks\.pager; did you mean "events"\?/,
    ],
    [
      'a secret in the file is refused with what to do instead',
      'validators: {}\nwebhooks:\n  pager:\n    url: https://a.example.com/\n    secret: whsec_abc\n',
      /^snowline\.yaml:5:5: webhooks\.pager\.secret: the signing secret never goes in this file.*secret_env$/,
    ],
    [
      'a missing secret_env says the secret never goes in the file',
      'validators: {}\nwebhooks:\n  pager:\n    url: https://a.example.com/\n',
      /^snowline\.yaml:4:5: webhooks\.pager: missing `secret_env`.*never goes in this file/,
    ],
    [
      'a url that is not http(s)',
      'validators: {}\nwebhooks:\n  pager:\n    url: ftp://a.example.com/\n    secret_env: S\n',
      /^snowline\.yaml:4:10: webhooks\.pager\.url: must be an absolute http/,
    ],
    [
      'a bad secret_version',
      'validators: {}\nwebhooks:\n  pager:\n    url: https://a.example.com/\n    secret_env: S\n    secret_version: 0\n',
      /webhooks\.pager\.secret_version: must be a whole number from 1/,
    ],
    [
      'a positional webhook list',
      'validators: {}\nwebhooks:\n  - url: https://a.example.com/\n',
      /webhooks must be a mapping of name → settings \(not a list\)/,
    ],
    [
      'an unknown network in standby_pools suggests the nearest',
      'validators: {}\nstandby_pools:\n  fujii:\n    cn-hongkong-b: 1\n',
      /^snowline\.yaml:3:3: unknown field "fujii" in standby_pools \(a network\); did you mean "fuji"\?/,
    ],
    [
      'a pool size out of range',
      'validators: {}\nstandby_pools:\n  fuji:\n    cn-hongkong-b: 99\n',
      /^snowline\.yaml:4:20: standby_pools\.fuji\.cn-hongkong-b: must be a whole number from 0 to 20/,
    ],
    [
      'a misspelt top-level section',
      'validators: {}\nwebhook: {}\n',
      /^snowline\.yaml:2:1: unknown field "webhook" in the top level; did you mean "webhooks"\?/,
    ],
  ])('should report %s', (_, text, expected) => {
    expect(errorsOf(text)[0]).toMatch(expected);
  });
});

describe('parseConfigYaml: L1 validators', () => {
  const L1 = '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';

  it('should read subnet_id as the validator’s L1', () => {
    const r = parseConfigYaml(
      `version: 1\nvalidators:\n  a:\n    network: fuji\n    subnet_id: ${L1}\n`,
    );
    expect(r).toMatchObject({
      ok: true,
      config: { validators: { a: { network: 'fuji', subnetId: L1 } } },
    });
  });

  it.each<[string, string, RegExp]>([
    [
      'a typo (checksum)',
      L1.replace('bRC', 'bRD'),
      /4:16: validators\.a\.subnet_id: ".*" has a wrong cb58 checksum/,
    ],
    [
      'a 0 (not base58)',
      L1.replace('2', '0'),
      /validators\.a\.subnet_id: .* "0" is not a base58 character/,
    ],
    ['the primary network', '11111111111111111111111111111111LpoYY', /is the primary network's id/],
    ['a number', '12', /validators\.a\.subnet_id: 12 must be a string/],
  ])('should refuse %s at its line', (_what, value, message) => {
    const r = parseConfigYaml(
      `version: 1\nvalidators:\n  a:\n    subnet_id: ${value}\n    network: fuji\n`,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map(formatConfigError).join('\n')).toMatch(message);
  });
});
