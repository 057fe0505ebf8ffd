import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { ROLLOUT_BUNDLING } from '../../lib/rollout-functions';
import { REPO_ROOT } from './helpers';

/**
 * Really bundles (locally, with esbuild, as `cdk synth` does) a handler that throws one of the rollout's
 * errors, then runs the bundle: the ASL's Retry/Catch match the error's name, which must survive minification.
 */
describe('rollout bundling', () => {
  let bundleDirectory: string;

  beforeAll(() => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'bundling-'));
    const app = new App({ outdir });
    new NodejsFunction(new Stack(app, 'Bundling'), 'Fn', {
      entry: path.join(__dirname, 'fixtures', 'bundling', 'index.ts'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: ROLLOUT_BUNDLING,
    });
    app.synth();
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.') && existsSync(path.join(outdir, name, 'index.js')));
    expect(assets).toHaveLength(1);
    bundleDirectory = path.join(outdir, assets[0]);
  });

  test('keeps error class names, so Step Functions sees EndpointUpdateFailed, not a minified name', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(path.join(bundleDirectory, 'index.js')) as { handler: () => Promise<unknown> };
    await expect(bundle.handler()).rejects.toMatchObject({
      name: 'EndpointUpdateFailed',
      message: 'endpoint fraud-prod ended Failed',
    });
  });

  test('bundles the AWS SDK instead of using the runtime copy, minified, with a source map', () => {
    const code = readFileSync(path.join(bundleDirectory, 'index.js'), 'utf8');
    // (Error messages inside the SDK mention require("@aws-sdk/signature-v4-crt"); real imports would be these.)
    expect(code).not.toMatch(/require\(["']@aws-sdk\/client-/);
    expect(code).not.toMatch(/require\(["']@smithy\//);
    expect(code).toContain('SageMakerClient');
    // Minified: long lines (unminified output averages a few dozen characters per line).
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    expect(existsSync(path.join(bundleDirectory, 'index.js.map'))).toBe(true);
  });
});
