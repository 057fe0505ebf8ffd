import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { parseRolloutConfig } from '../../lambdas/shared/config';
import { loadRolloutConfig } from '../../lib/config';
import { REPO_ROOT, TEST_CONFIG } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdkJson = require('../../cdk.json') as { context: { blueGreen: unknown } };

const appWith = (context: Record<string, unknown>) => new App({ context });
const writeTemp = (name: string, text: string): string => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bluegreen-config-')), name);
  writeFileSync(file, text);
  return file;
};
const withInstanceType = (instanceType: string) => ({
  targets: [{ ...TEST_CONFIG.targets[0], green: { instanceType } }],
});

describe('loadRolloutConfig', () => {
  test("reads cdk.json's example target and applies the schema defaults", () => {
    const config = loadRolloutConfig(appWith({ blueGreen: cdkJson.context.blueGreen }).node);
    expect(config.targets.map((t) => t.endpointName)).toEqual(['fraud-detector-prod']);
    expect(config).toEqual(parseRolloutConfig(cdkJson.context.blueGreen));
  });

  test('accepts the configuration as a JSON string (how -c blueGreen=... arrives)', () => {
    const config = loadRolloutConfig(appWith({ blueGreen: JSON.stringify(TEST_CONFIG) }).node);
    expect(config).toEqual(parseRolloutConfig(TEST_CONFIG));
  });

  test('a file given by blueGreenConfigFile takes precedence over blueGreen', () => {
    const file = writeTemp('targets.json', JSON.stringify(TEST_CONFIG));
    const config = loadRolloutConfig(appWith({ blueGreenConfigFile: file, blueGreen: cdkJson.context.blueGreen }).node);
    expect(config.targets.map((t) => t.modelPackageGroupName)).toEqual(['Fraud-Detector', 'churn-model']);
  });

  test('a relative blueGreenConfigFile is resolved against the working directory', () => {
    const file = writeTemp('targets.json', JSON.stringify(TEST_CONFIG));
    const config = loadRolloutConfig(appWith({ blueGreenConfigFile: 'targets.json' }).node, path.dirname(file));
    expect(config.targets).toHaveLength(2);
  });

  test('an invalid configuration fails with a message naming the target and the field', () => {
    expect(() => loadRolloutConfig(appWith({ blueGreen: withInstanceType('g5.xlarge') }).node)).toThrow(
      /Invalid configuration in context blueGreen:\n\s+targets\[0\] \(Fraud-Detector\)\.green\.instanceType: instanceType must look like ml\.g5\.xlarge/,
    );
  });

  test('an invalid configuration file fails naming the file, the target and the field', () => {
    const file = writeTemp('bad.json', JSON.stringify(withInstanceType('large')));
    expect(() => loadRolloutConfig(appWith({ blueGreenConfigFile: file }).node)).toThrow(
      new RegExp(`configuration in ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*\\n\\s+targets\\[0\\] \\(Fraud-Detector\\)\\.green\\.instanceType`),
    );
  });

  test('a missing file fails with its path', () => {
    const missing = path.join(tmpdir(), 'no-such-dir-bluegreen', 'targets.json');
    expect(() => loadRolloutConfig(appWith({ blueGreenConfigFile: missing }).node)).toThrow(
      `Cannot read the configuration file ${missing} (context blueGreenConfigFile)`,
    );
  });

  test('a file that is not JSON fails clearly', () => {
    const file = writeTemp('targets.json', '{ targets: [');
    expect(() => loadRolloutConfig(appWith({ blueGreenConfigFile: file }).node)).toThrow(`The configuration file ${file} is not valid JSON`);
  });

  test('a JSON string that is not JSON fails clearly', () => {
    expect(() => loadRolloutConfig(appWith({ blueGreen: '{targets' }).node)).toThrow('The context blueGreen is not valid JSON');
  });

  test('no configuration at all fails and says how to give one', () => {
    expect(() => loadRolloutConfig(appWith({}).node)).toThrow(
      'No deployment targets configured: set context "blueGreen" in cdk.json or pass a file with "npx cdk synth -c blueGreenConfigFile=targets.json"',
    );
  });

  test('errors are ConfigurationErrors', () => {
    expect(() => loadRolloutConfig(appWith({}).node)).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
  });
});

describe('the app (bin/app.ts)', () => {
  // The CLI hands context to the app in CDK_CONTEXT_JSON; the config is read before any construct, so this
  // runs without handlers, bundling or AWS.
  const runApp = (context: Record<string, unknown>) =>
    spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'bin/app.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: mkdtempSync(path.join(tmpdir(), 'cdk-out-')) },
      encoding: 'utf8',
    });

  test('synth fails with the message naming target and field when the configuration is invalid', () => {
    const result = runApp({ blueGreen: withInstanceType('gpu') });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('targets[0] (Fraud-Detector).green.instanceType: instanceType must look like ml.g5.xlarge');
  });

  test('synth fails naming the file when blueGreenConfigFile cannot be read', () => {
    const result = runApp({ blueGreenConfigFile: 'does-not-exist.json', blueGreen: cdkJson.context.blueGreen });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`Cannot read the configuration file ${path.join(REPO_ROOT, 'does-not-exist.json')}`);
  });
});
