import { defineConfig } from 'vitest/config';

// Unit tests are pure and fast; integration tests touch a real PostgreSQL, real git, real haproxy,
// executable fakes on PATH or a browser, and run with fewer workers on this 2-core machine.
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        test: {
          name: 'integration',
          include: ['test/{db,http,exec,git,e2e,adversarial}/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
