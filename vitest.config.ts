import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['test/unit/setup.ts', 'test/fixtures/error-code-guard.ts'],
          // Handlers read these at import, as in Lambda; the expected 500s need not flood the output.
          env: {
            TABLE_NAME: 'unit-table',
            AWS_REGION: 'eu-west-1',
            POWERTOOLS_LOG_LEVEL: 'SILENT',
          },
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['test/fixtures/error-code-guard.ts'],
          // Each file starts its own engine and server; on two cores, two at a time.
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'infra',
          sequence: { groupOrder: 2 },
          include: ['test/infra/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
        },
      },
    ],
  },
});
