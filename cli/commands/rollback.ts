/**
 * `operator rollback`: the manual rollback while green takes traffic (a shift, a bake, the rollback window).
 * The same code as an alarm (lambdas/shared/rollback.ts): blue's weights come back in place once blue has
 * answered a probe, and the rollout's waiting step is failed with RollbackRequested so it removes green.
 */
import { z } from 'zod';
import { EndpointBusy, RolloutError } from '../../lambdas/shared/errors';
import type { StepLogger } from '../../lambdas/shared/logger';
import { rollBackNow, type RollBackNowResult } from '../../lambdas/shared/rollback';
import { explainAwsError } from '../aws-errors';
import { OperationError, type Command, type OptionsConfig } from '../command';
import { clientsBeside, type CliContext } from '../context';
import { byField, operatorName, reasonField } from '../decision';
import { ENDPOINT_TABLE_OPTIONS, endpointField, REGION_OPTION, regionField, TABLE_OUTPUT, TABLE_USAGE, tableField, tableName } from '../options';

export { TABLE_OUTPUT };
/** What the request records when the operator gives no --reason. */
export const DEFAULT_ROLLBACK_REASON = 'no reason given';

const RollbackOptionsSchema = z.object({
  endpoint: endpointField('rolls back'),
  reason: reasonField('must not be empty').optional(),
  by: byField,
  table: tableField,
  region: regionField,
});

export type RollbackOptions = z.infer<typeof RollbackOptionsSchema>;

const ROLLBACK_OPTIONS = {
  ...ENDPOINT_TABLE_OPTIONS,
  reason: { type: 'string' },
  by: { type: 'string' },
  ...REGION_OPTION,
} as const satisfies OptionsConfig;

export const rollbackCommand: Command<RollbackOptions> = {
  name: 'rollback',
  summary: "roll an endpoint's rollout back now: blue gets its traffic back, green is removed",
  usage: `Usage: npx sagemaker-blue-green rollback --endpoint NAME [--reason TEXT] [--by NAME] [--table TABLE] [--region REGION]

Rolls back the rollout active on an endpoint, during a traffic shift, a bake or the rollback window, as an
alarm would: checks that blue answers a probe request, gives blue its weight back and green weight 0 in
place (seconds, no redeploy), then fails the step the rollout waits on (error RollbackRequested) so it
removes green. If blue cannot serve, the weights are left alone and the rollout stops for an operator.
Safe to run twice, and after an alarm: the first request is the one recorded.

Options:
  --endpoint NAME   the SageMaker endpoint whose rollout rolls back
  --reason TEXT     why (default: "${DEFAULT_ROLLBACK_REASON}")
  --by NAME         who asks (default: your OS user name)
${TABLE_USAGE}
  --region REGION   AWS region of the stack (default: AWS_REGION or your profile's region)
  --help            this text`,
  options: ROLLBACK_OPTIONS,
  schema: RollbackOptionsSchema,
  run: (options, context) => rollback(options, context),
};

async function rollback(options: RollbackOptions, context: CliContext): Promise<void> {
  const endpointName = options.endpoint;
  const by = operatorName(options.by, context);
  const table = tableName(options.table);

  const stepFunctions = context.aws.stepFunctions(options.region);
  const clients = clientsBeside(stepFunctions);
  // The shared code logs for CloudWatch; here only its waiting notes (a busy endpoint) concern the operator.
  const logger: StepLogger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (input) => context.out(`Note: ${typeof input === 'string' ? input : input.message}`),
  };

  let result: RollBackNowResult;
  try {
    result = await rollBackNow(
      endpointName,
      { kind: 'OPERATOR', by, reason: options.reason ?? DEFAULT_ROLLBACK_REASON },
      {
        sageMaker: clients.sageMaker,
        runtime: clients.sageMakerRuntime,
        s3: clients.s3,
        dynamo: clients.dynamoDb,
        sfn: stepFunctions,
        logger,
        table,
      },
    );
  } catch (error) {
    throw new OperationError(explainRollbackError(error, endpointName, options.region));
  }
  for (const line of reportLines(result)) context.out(line);
}

/** What happened, in plain words; outcomes where nothing was rolled back are refused (exit 1). */
function reportLines(result: RollBackNowResult): string[] {
  const { endpointName, executionArn, message } = result;
  switch (result.outcome) {
    case 'ROLLED_BACK':
    case 'ALREADY_REQUESTED': {
      const headline = result.notified
        ? `Blue's weights are restored on ${endpointName}; execution ${executionArn} is rolling back and will remove green.`
        : `Blue's weights are restored on ${endpointName}; execution ${executionArn} rolls back and removes green at its next check.`;
      return [headline, `  ${message}`];
    }
    case 'NO_ACTIVE_ROLLOUT':
      throw new OperationError(
        `${message} A rollout is registered from its first traffic shift to the end of its rollback window; outside ` +
          'that, green has no traffic to take back (check --endpoint, --table and --region if you expected one).',
      );
    case 'BLUE_UNHEALTHY':
      throw new OperationError(`blue cannot take the traffic back on ${endpointName}, so the weights were not touched. ${message}`);
    case 'NOTHING_TO_RESTORE':
      throw new OperationError(`nothing to restore on ${endpointName}. ${message}`);
    case 'NOT_WATCHED_ALARM':
      throw new OperationError(message);
  }
}

/** The rollout's own refusals keep their message; AWS failures in plain words, naming what the rollback calls. */
function explainRollbackError(error: unknown, endpointName: string, region: string | undefined): string {
  if (error instanceof EndpointBusy) return `${error.message} Run the command again in a minute.`;
  if (error instanceof RolloutError) return error.message;
  const name = error instanceof Error ? error.name : '';
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return (
      `permission missing (AWS said: ${(error as Error).message}). A rollback needs dynamodb:GetItem and dynamodb:UpdateItem ` +
      `on the active-rollouts table, sagemaker:DescribeEndpoint, sagemaker:UpdateEndpointWeightsAndCapacities and ` +
      `sagemaker:InvokeEndpoint on endpoint ${endpointName}, states:SendTaskFailure on the rollout state machine, and ` +
      `s3:GetObject on the validation dataset when the rollout probes with it`
    );
  }
  if (name === 'ResourceNotFoundException') {
    return `the active-rollouts table was not found (${(error as Error).message}): check --table (the stack output ${TABLE_OUTPUT}) and --region`;
  }
  return explainAwsError(error, { action: `rolling back endpoint ${endpointName}`, executionArn: `the rollout on ${endpointName}`, region });
}
