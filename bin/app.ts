#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`. Wiring only; the configuration comes from cdk.json's
 * context `blueGreen` or from `-c blueGreenConfigFile=targets.json`, the sweeper's from context `sweeper`, and the
 * notifications' from context `notifications`.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BlueGreenDeploymentStack } from '../lib/blue-green-deployment-stack';
import { loadRolloutConfig, NOTIFICATIONS_CONTEXT_KEY, parseNotificationsConfig } from '../lib/config';
import { ConfigurationError } from '../lambdas/shared/errors';
import { parseSweeperConfig } from '../lambdas/shared/sweeper-config';

const app = new App();
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

/** Configuration errors name the target and field; a stack trace would only bury the message. */
function exitOnConfigurationError<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

exitOnConfigurationError(
  () =>
    new BlueGreenDeploymentStack(app, 'SageMakerBlueGreen', {
      description: 'Blue/green deployment of SageMaker Model Registry approvals to live endpoints',
      config: loadRolloutConfig(app.node),
      sweeper: parseSweeperConfig(app.node.tryGetContext('sweeper')),
      notifications: parseNotificationsConfig(app.node.tryGetContext(NOTIFICATIONS_CONTEXT_KEY)),
      // Environment-agnostic unless the CLI knows the target account and region.
      env: account && region ? { account, region } : undefined,
    }),
);

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
