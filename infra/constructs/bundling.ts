import type { BuildOptions } from 'esbuild';

/**
 * Gives the ESM bundle a `require` for the CommonJS dependencies esbuild inlines. The
 * aliased import cannot clash with a bundled module's own `createRequire` import.
 */
export const esmRequireBanner =
  "import { createRequire as topLevelCreateRequire } from 'node:module';" +
  'const require = topLevelCreateRequire(import.meta.url);';

/** How every Lambda is bundled; CDK's NodejsFunction and the bundle benchmark both use it. */
export const lambdaBundle = {
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: esmRequireBanner,
  minify: true,
} as const;

/** The same bundle as plain esbuild options, for the benchmark. */
export const lambdaEsbuildOptions: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: lambdaBundle.target,
  mainFields: [...lambdaBundle.mainFields],
  banner: { js: lambdaBundle.banner },
  minify: lambdaBundle.minify,
};
