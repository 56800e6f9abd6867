import { MAX_HCL_BYTES, MAX_HCL_DEPTH, parseConfigHcl, parseConfigText, tokenizeHcl } from './hcl';
import { formatConfigError, parseConfigYaml } from './parse';

const YAML = `version: 1
validators:
  fuji-a:
    network: fuji
    instance_type: ecs.g7.2xlarge
    zones: [cn-hongkong-b, cn-hongkong-c]
    labels:
      team: core
      "app.kubernetes.io/name": snowline
    prevent_destroy: true
  fuji-b:
    network: fuji
    identity:
      staker_crt: keys/b/staker.crt
      staker_key: keys/b/staker.key
      signer_key: keys/b/signer.key
webhooks:
  pager:
    url: https://hooks.example.com/snowline
    events: [validator.failed, zone.dark]
    description: "on-call: #ops"
    secret_env: PAGER_WEBHOOK_SECRET
    secret_version: 2
standby_pools:
  fuji:
    cn-hongkong-b: 2
    cn-hongkong-c: 0
`;

const HCL = `# The same file as YAML above.
version = 1

validator "fuji-a" {
  network       = "fuji"
  instance_type = "ecs.g7.2xlarge"
  zones         = ["cn-hongkong-b", "cn-hongkong-c"] // trailing comment
  labels = {
    team                     = "core",
    "app.kubernetes.io/name" = "snowline"
  }
  prevent_destroy = true
}

/* identity imported from files
   next to this one */
validator "fuji-b" {
  network = "fuji"
  identity {
    staker_crt = "keys/b/staker.crt"
    staker_key = "keys/b/staker.key"
    signer_key = "keys/b/signer.key"
  }
}

webhook "pager" {
  url            = "https://hooks.example.com/snowline"
  events         = [
    "validator.failed",
    "zone.dark",
  ]
  description    = "on-call: #ops"
  secret_env     = "PAGER_WEBHOOK_SECRET"
  secret_version = 2
}

standby_pool "fuji" {
  cn-hongkong-b = 2
  cn-hongkong-c = 0
}
`;

const errorsOf = (text: string) => {
  const r = parseConfigHcl(text, 'snowline.hcl');
  if (r.ok) throw new Error('expected errors');
  return r.errors.map(formatConfigError);
};

describe(parseConfigHcl.name, () => {
  it('should read the same config as the equivalent snowline.yaml', () => {
    const yaml = parseConfigYaml(YAML);
    expect(yaml.ok).toBe(true);
    expect(parseConfigHcl(HCL)).toEqual(yaml);
  });

  it('should pick the parser by extension', () => {
    expect(parseConfigText(HCL, 'x/snowline.HCL')).toEqual(parseConfigText(YAML, 'snowline.yml'));
  });

  it('should decode escapes and keep $${ as a literal', () => {
    const r = parseConfigHcl(
      'webhook "w" {\n  url = "https://a.example.com/"\n  secret_env = "S"\n  description = "a\\"b $${x}\\t\\u00e9"\n}\n',
    );
    expect(r.ok && r.config.webhooks!.w!.description).toBe('a"b ${x}\té');
  });

  it.each([
    [
      'an unterminated string',
      'validator "a" {\n  network = "fuji\n}\n',
      /^snowline\.hcl:2:13: HCL syntax error: unterminated string/,
    ],
    [
      'a missing "="',
      'validator "a" {\n  network "fuji"\n}\n',
      /^snowline\.hcl:2:17: HCL syntax error: expected "\{" to open the block, found the end of the line/,
    ],
    [
      'a missing "}"',
      'validator "a" {\n  network = "fuji"\n',
      /^snowline\.hcl:3:1: HCL syntax error: expected an attribute name, a block or "\}", found the end of the file/,
    ],
    [
      'a bare word as a value',
      'validator "a" {\n  network = fuji\n}\n',
      /^snowline\.hcl:2:13: HCL syntax error: fuji is not a value: .*quote a string \("fuji"\)/,
    ],
    [
      'interpolation',
      'validator "a" {\n  network = "${var.net}"\n}\n',
      /^snowline\.hcl:2:14: HCL syntax error: template \$\{…\} is not supported/,
    ],
    [
      'a heredoc',
      'validator "a" {\n  network = <<EOT\nfuji\nEOT\n}\n',
      /^snowline\.hcl:2:13: HCL syntax error: heredoc strings/,
    ],
    [
      'a stray character',
      'validator "a" {\n  network = "fuji";\n}\n',
      /^snowline\.hcl:2:19: HCL syntax error: unexpected character ";"/,
    ],
    [
      'an unterminated comment',
      'validator "a" {\n  /* network\n}\n',
      /^snowline\.hcl:2:3: HCL syntax error: unterminated \/\* comment/,
    ],
    [
      'two attributes on one line',
      'validator "a" {\n  network = "fuji" zones = []\n}\n',
      /^snowline\.hcl:2:20: HCL syntax error: expected a new line after the value of network/,
    ],
    [
      'a list without a comma',
      'validator "a" {\n  network = "fuji"\n  zones = ["b" "c"]\n}\n',
      /^snowline\.hcl:3:16: HCL syntax error: expected "," or "\]"/,
    ],
  ])('should name file:line:column for %s', (_, text, expected) => {
    expect(errorsOf(text)[0]).toMatch(expected);
  });

  it.each([
    [
      'an unknown field, with the nearest known one',
      'validator "fuji-a" {\n  network = "fuji"\n  lables = {}\n}\n',
      /^snowline\.hcl:3:3: unknown field "lables" in validators\.fuji-a; did you mean "labels"\?/,
    ],
    [
      'an unknown nested block',
      'validator "fuji-a" {\n  network = "fuji"\n  identiy {\n  }\n}\n',
      /^snowline\.hcl:3:3: unknown field "identiy" in validators\.fuji-a; did you mean "identity"\?/,
    ],
    [
      'an unknown block type',
      'validatr "fuji-a" {\n  network = "fuji"\n}\n',
      /^snowline\.hcl:1:1: unknown block "validatr"; did you mean "validator"\?/,
    ],
    [
      'a webhook field',
      'webhook "pager" {\n  url = "https://a.example.com/"\n  secret_envv = "S"\n}\n',
      /^snowline\.hcl:3:3: unknown field "secret_envv" in webhooks\.pager; did you mean "secret_env"\?/,
    ],
    [
      'a bad value, at the value',
      'validator "a" {\n  network = "fuj"\n}\n',
      /^snowline\.hcl:2:13: validators\.a\.network: must be one of fuji, mainnet, local \(got "fuj"\)/,
    ],
    [
      'a bad name, at the label',
      'validator "Fuji_A" {\n  network = "fuji"\n}\n',
      /^snowline\.hcl:1:11: validator name "Fuji_A" must be/,
    ],
    [
      'a block declared twice',
      'validator "a" {\n  network = "fuji"\n}\nvalidator "a" {\n  network = "fuji"\n}\n',
      /^snowline\.hcl:4:11: validator "a" is declared twice \(first at line 1, column 11\)/,
    ],
    [
      'an attribute set twice',
      'validator "a" {\n  network = "fuji"\n  network = "fuji"\n}\n',
      /^snowline\.hcl:3:3: validators\.a: network is set twice \(first at line 2, column 3\)/,
    ],
    [
      'a block without its label',
      'validator {\n  network = "fuji"\n}\n',
      /^snowline\.hcl:1:1: block validator takes exactly one label: a name/,
    ],
    [
      'a pool size out of range',
      'standby_pool "fuji" {\n  cn-hongkong-b = 50\n}\n',
      /^snowline\.hcl:2:19: standby_pools\.fuji\.cn-hongkong-b: must be a whole number from 0 to 20/,
    ],
    [
      'an unknown top-level attribute',
      'versoin = 1\n',
      /^snowline\.hcl:1:1: unknown attribute "versoin" at the top level; did you mean "version"\?/,
    ],
    ['an empty file', '# nothing\n', /the file is empty/],
  ])('should report %s', (_, text, expected) => {
    expect(errorsOf(text)[0]).toMatch(expected);
  });

  it('should read a file without validator blocks as no validators', () => {
    const r = parseConfigHcl(
      'webhook "pager" {\n  url = "https://a.example.com/"\n  secret_env = "S"\n}\n',
    );
    expect(r).toEqual({
      ok: true,
      config: {
        version: 1,
        validators: {},
        webhooks: { pager: { url: 'https://a.example.com/', secretEnv: 'S' } },
      },
    });
  });
});

describe(tokenizeHcl.name, () => {
  it('should give every token its line and column', () => {
    expect(
      tokenizeHcl('a = [1, -2.5e3]\n# c\nb { }').map((t) => `${t.kind}@${t.line}:${t.column}`),
    ).toEqual([
      'ident@1:1',
      '=@1:3',
      '[@1:5',
      'number@1:6',
      ',@1:7',
      'number@1:9',
      ']@1:15',
      'newline@1:16',
      'newline@2:4',
      'ident@3:1',
      '{@3:3',
      '}@3:5',
      'eof@3:6',
    ]);
  });
});

describe('parseConfigHcl limits', () => {
  const messages = (text: string) => {
    const r = parseConfigHcl(text);
    return r.ok ? [] : r.errors.map((e) => `${e.line}:${e.column} ${e.message}`);
  };
  const lists = (n: number) => `version = ${'['.repeat(n)}${']'.repeat(n)}\n`;

  it(`should accept nesting exactly ${MAX_HCL_DEPTH} deep`, () => {
    expect(messages(lists(MAX_HCL_DEPTH)).join('\n')).not.toMatch(/nesting/);
  });

  it.each([
    ['lists', lists(MAX_HCL_DEPTH + 1), 1, 11 + MAX_HCL_DEPTH],
    [
      'objects',
      `version = ${'{a = '.repeat(MAX_HCL_DEPTH + 1)}1${'}'.repeat(MAX_HCL_DEPTH + 1)}\n`,
      1,
      11 + 5 * MAX_HCL_DEPTH,
    ],
    [
      'blocks',
      `${Array.from({ length: MAX_HCL_DEPTH + 1 }, (_, k) => `${k ? 'b' : 'validator "x"'} {\n`).join('')}${'}\n'.repeat(MAX_HCL_DEPTH + 1)}`,
      MAX_HCL_DEPTH + 1,
      3,
    ],
  ])(
    `should refuse %s nested ${MAX_HCL_DEPTH + 1} deep, naming the limit at the opening token`,
    (_kind, text, line, column) => {
      expect(messages(text)).toEqual([
        `${line}:${column} HCL syntax error: nesting deeper than ${MAX_HCL_DEPTH} levels of blocks, lists and objects (the limit is MAX_HCL_DEPTH = ${MAX_HCL_DEPTH})`,
      ]);
    },
  );

  it('should refuse 100000 levels with the limit, not a stack overflow', () => {
    expect(() => parseConfigHcl(lists(100_000))).not.toThrow();
    expect(messages(lists(100_000))[0]).toMatch(/the limit is MAX_HCL_DEPTH = 32/);
  });

  it(`should refuse a file over ${MAX_HCL_BYTES} bytes before tokenizing it, counting UTF-8 bytes`, () => {
    const at = (n: number) => `version = 1\n#${'x'.repeat(n - 14)}\n`;
    expect(Buffer.byteLength(at(MAX_HCL_BYTES))).toBe(MAX_HCL_BYTES);
    expect(messages(at(MAX_HCL_BYTES)).join('\n')).not.toMatch(/size limit/);
    const over = `${at(MAX_HCL_BYTES - 2)}#é`; // é is 2 bytes: one over, by bytes not characters
    expect(over.length).toBe(MAX_HCL_BYTES);
    expect(messages(over)).toEqual([
      `1:1 the file is ${MAX_HCL_BYTES + 1} bytes, over the size limit of ${MAX_HCL_BYTES} bytes (MAX_HCL_BYTES, 2 MiB)`,
    ]);
    expect(messages(`#${'{'.repeat(MAX_HCL_BYTES)}`)[0]).toMatch(/size limit/);
  });
});

describe('parseConfigHcl: versions', () => {
  it('should read version and upgrade as the YAML does', () => {
    const r = parseConfigHcl(
      'version = 1\nvalidator "a" {\n  network = "fuji"\n  version = "v1.15.3"\n  upgrade = "before-deadline"\n}\n',
    );
    expect(r).toMatchObject({
      ok: true,
      config: {
        validators: { a: { network: 'fuji', version: '1.15.3', upgrade: 'before-deadline' } },
      },
    });
  });
});
