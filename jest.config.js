/** Three tiers: unit (*.spec.ts next to the code), integration (real Postgres/Redis), e2e (real processes). */
const fs = require('node:fs');
const swc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));
const libs = ['domain', 'persistence', 'cloud', 'avalanche', 'agent', 'queue', 'config', 'api-client'];
const moduleNameMapper = Object.fromEntries(
  libs.map((l) => [`^@snowline/${l}$`, `<rootDir>/libs/${l}/src`]),
);
const base = {
  rootDir: __dirname,
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { ...swc, swcrc: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testEnvironment: 'node',
};
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
    },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
