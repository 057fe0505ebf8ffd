import 'aws-sdk-client-mock-jest';
import { DescribeModelPackageCommand, SageMakerClient, SageMakerServiceException, type DescribeModelPackageOutput } from '@aws-sdk/client-sagemaker';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { approvalEventFor, deployExecutionName, executionConsoleUrl, MAX_EXECUTION_NAME_CHARS } from '../../cli/commands/deploy';
import { runCli } from '../../cli/runner';
import { ApprovalEventInputSchema, rolloutTrigger } from '../../lambdas/resolve-rollout/resolve';
import { APPROVAL_EVENT_DETAIL_TYPE, APPROVAL_EVENT_SOURCE, approvalEventPattern, ModelPackageStateChangeEventSchema } from '../../lambdas/shared/events';
import { matchesPattern, type EventPattern } from '../../rehearsal/event-bus';
import { capturedContext, NOW, PACKAGE_ARN, REGION, serviceError } from './support';

const sageMaker = mockClient(SageMakerClient);
const sfn = mockClient(SFNClient);

const ACCOUNT = '123456789012';
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:BlueGreenRollout`;
const DEPLOY_USAGE = 'Usage: npx sagemaker-blue-green deploy --model-package-arn ARN --state-machine-arn ARN [--by NAME] [--region REGION]';
/** Step Functions' execution-name rule: 1-80 characters, none of whitespace, brackets, wildcards or `"#%\^|~`$&,;:/`. */
const VALID_EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

let modelPackage: DescribeModelPackageOutput;

const args = (...extra: string[]) => ['deploy', '--model-package-arn', PACKAGE_ARN, '--state-machine-arn', STATE_MACHINE_ARN, ...extra];

function validationException(message: string): SageMakerServiceException {
  return new SageMakerServiceException({ name: 'ValidationException', $fault: 'client', message, $metadata: { httpStatusCode: 400 } });
}

/** The input and name of the one StartExecution sent. */
function started(): { name: string; event: Record<string, unknown> & { detail: Record<string, unknown> } } {
  const calls = sfn.commandCalls(StartExecutionCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0]!.args[0].input;
  return { name: input.name!, event: JSON.parse(input.input!) };
}

beforeEach(() => {
  sageMaker.reset();
  sfn.reset();
  modelPackage = {
    ModelPackageArn: PACKAGE_ARN,
    ModelPackageName: 'churn',
    ModelPackageGroupName: 'churn',
    ModelPackageVersion: 7,
    ModelApprovalStatus: 'Approved',
    ModelPackageStatus: 'Completed',
    ModelPackageStatusDetails: { ValidationStatuses: [] },
    CreationTime: new Date('2025-03-01T09:00:00.000Z'),
  };
  sageMaker.on(DescribeModelPackageCommand).callsFake(() => modelPackage);
  sfn.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string }) => ({
    executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: NOW,
  }));
});

describe('operator deploy', () => {
  test('starts the state machine with the approval event of the package, and says how to follow it', async () => {
    const { context, out, err } = capturedContext();

    const code = await runCli(args('--by', 'dave'), context);

    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(sageMaker).toHaveReceivedCommandWith(DescribeModelPackageCommand, { ModelPackageName: PACKAGE_ARN });
    const { name, event } = started();
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: STATE_MACHINE_ARN });
    expect(name).toMatch(/^deploy-churn-v7-[0-9a-f]{8}$/);
    expect(event).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      'detail-type': 'SageMaker Model Package State Change',
      source: 'aws.sagemaker',
      account: ACCOUNT,
      time: '2025-03-04T12:00:00Z',
      region: REGION,
      resources: [PACKAGE_ARN],
      detail: {
        ModelPackageGroupName: 'churn',
        ModelPackageVersion: 7,
        ModelPackageArn: PACKAGE_ARN,
        ModelPackageName: 'churn/7',
        CreationTime: Date.parse('2025-03-01T09:00:00.000Z'),
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: 'Approved',
        UpdatedModelPackageFields: ['ModelApprovalStatus'],
      },
      // Beside the event, not in detail: "Resolve rollout" records the rollout as deployed by this operator.
      deployedBy: 'dave',
    });
    const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:BlueGreenRollout:${name}`;
    expect(out).toEqual([
      `Started a rollout of churn version 7 (${PACKAGE_ARN}), by dave.`,
      `Execution: ${executionArn}`,
      'Follow it with:',
      `  npx sagemaker-blue-green trace --execution ${executionArn}`,
      `  https://${REGION}.console.aws.amazon.com/states/home?region=${REGION}#/v2/executions/details/${executionArn}`,
      expect.stringContaining('queues behind it'),
    ]);
  });

  test('the event passes "Resolve rollout"\'s schema and the approval rule\'s pattern, as an approval does', async () => {
    const { context } = capturedContext();
    expect(await runCli(args(), context)).toBe(0);
    const { event } = started();

    const parsed = ModelPackageStateChangeEventSchema.safeParse(event);

    expect(parsed.success).toBe(true);
    expect(parsed.data?.detail).toMatchObject({ ModelPackageGroupName: 'churn', ModelPackageVersion: 7, ModelApprovalStatus: 'Approved' });
    expect(matchesPattern(approvalEventPattern(['churn']) as unknown as EventPattern, event)).toBe(true);
  });

  test('deployedBy is the operator (--by, else the OS user name), and "Resolve rollout" reads it as an operator deploy', async () => {
    const { context } = capturedContext();
    expect(await runCli(args(), context)).toBe(0);
    const { event } = started();

    expect(event.deployedBy).toBe('alice');
    expect(event.detail).not.toHaveProperty('deployedBy');
    const parsed = ApprovalEventInputSchema.parse(event);
    expect(rolloutTrigger(parsed, { ModelPackageArn: PACKAGE_ARN } as DescribeModelPackageOutput)).toEqual({ kind: 'OPERATOR_DEPLOY', by: 'alice', eventId: event.id });
  });

  test('the group and version come from DescribeModelPackage, not from the ARN', async () => {
    // SageMaker lower-cases ARNs; the group keeps its own case in the response.
    modelPackage = { ...modelPackage, ModelPackageGroupName: 'Churn', ModelPackageVersion: 12 };
    const { context } = capturedContext();

    expect(await runCli(args(), context)).toBe(0);

    const { name, event } = started();
    expect(name).toMatch(/^deploy-Churn-v12-[0-9a-f]{8}$/);
    expect(event.detail).toMatchObject({ ModelPackageGroupName: 'Churn', ModelPackageVersion: 12, ModelPackageName: 'Churn/12' });
  });

  test('two deploys of one version get different names and event ids', async () => {
    const { context } = capturedContext();
    await runCli(args(), context);
    await runCli(args(), context);

    const calls = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.name).not.toBe(calls[1]!.name);
    expect(JSON.parse(calls[0]!.input!).id).not.toBe(JSON.parse(calls[1]!.input!).id);
  });

  test.each(['PendingManualApproval', 'Rejected'])('a %s package: exit 1, says to approve it first, starts nothing', async (status) => {
    modelPackage = { ...modelPackage, ModelApprovalStatus: status as DescribeModelPackageOutput['ModelApprovalStatus'] };
    const { context, out, err } = capturedContext();

    const code = await runCli(args(), context);

    expect({ code, out }).toEqual({ code: 1, out: [] });
    expect(err).toHaveLength(1);
    expect(err[0]).toContain(`operator deploy: model package ${PACKAGE_ARN} is ${status}, not Approved: approve it first`);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('a package that does not exist: exit 1 naming it, starts nothing', async () => {
    sageMaker.on(DescribeModelPackageCommand).rejects(validationException(`ModelPackage ${PACKAGE_ARN} does not exist.`));
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err).toEqual([`operator deploy: no model package ${PACKAGE_ARN} in ${REGION} (check the ARN and --region)`]);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('an unversioned package (no group): exit 1, starts nothing', async () => {
    const { ModelPackageGroupName: _group, ModelPackageVersion: _version, ...unversioned } = modelPackage;
    modelPackage = unversioned;
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toContain('is not a version in a model package group');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('DescribeModelPackage denied: names the permission and the package', async () => {
    sageMaker.on(DescribeModelPackageCommand).rejects(
      new SageMakerServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'not authorized', $metadata: {} }),
    );
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toContain(`Ask for sagemaker:DescribeModelPackage on ${PACKAGE_ARN}`);
  });

  test.each([
    ['StateMachineDoesNotExist', `no state machine ${STATE_MACHINE_ARN} (check --state-machine-arn`],
    ['ExecutionLimitExceeded', 'too many executions are running'],
    ['AccessDeniedException', 'your AWS identity may not call states:StartExecution'],
  ])('StartExecution fails with %s: exit 1 in plain words', async (name, expected) => {
    sfn.on(StartExecutionCommand).rejects(serviceError(name));
    const { context, out, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain(expected);
  });

  test('default region other than the ARNs\': refuses before any call and says which --region to use', async () => {
    const { context, err } = capturedContext({ defaultRegion: 'us-east-1' });

    expect(await runCli(args(), context)).toBe(1);

    expect(err).toEqual([
      `operator deploy: state machine ${STATE_MACHINE_ARN} is in ${REGION}, but requests would go to us-east-1 (your default region): use --region ${REGION}`,
    ]);
    expect(sageMaker).not.toHaveReceivedCommand(DescribeModelPackageCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('--region builds the client for that region', async () => {
    const { context, requestedRegions } = capturedContext({ defaultRegion: 'us-east-1' });

    expect(await runCli(args('--region', REGION), context)).toBe(0);

    expect(requestedRegions).toEqual([REGION]);
    expect(await sageMaker.commandCalls(DescribeModelPackageCommand)[0]!.thisValue.config.region()).toBe(REGION);
  });

  test('package and state machine in different regions: usage error, no call', async () => {
    const otherPackage = PACKAGE_ARN.replace(REGION, 'us-east-1');
    const { context, err } = capturedContext();

    const code = await runCli(['deploy', '--model-package-arn', otherPackage, '--state-machine-arn', STATE_MACHINE_ARN], context);

    expect(code).toBe(2);
    expect(err[0]).toBe(
      `operator deploy: --model-package-arn: the package is in us-east-1, but the state machine in ${REGION}: a rollout deploys ` +
        `packages of its own region (register the package in ${REGION}, or use that region's stack)`,
    );
    expect(sageMaker).not.toHaveReceivedCommand(DescribeModelPackageCommand);
  });

  test.each([
    [['deploy', '--state-machine-arn', STATE_MACHINE_ARN], '--model-package-arn: required'],
    [['deploy', '--model-package-arn', PACKAGE_ARN], '--state-machine-arn: required'],
    [['deploy', '--model-package-arn', 'churn/7', '--state-machine-arn', STATE_MACHINE_ARN], '--model-package-arn: expected a model package ARN'],
    [['deploy', '--model-package-arn', PACKAGE_ARN, '--state-machine-arn', `arn:aws:states:${REGION}:${ACCOUNT}:execution:BlueGreenRollout:x`], '--state-machine-arn: expected a state machine ARN'],
  ])('bad arguments %j: exit 2 with the usage', async (argv, expected) => {
    const { context, err } = capturedContext();

    expect(await runCli(argv, context)).toBe(2);

    expect(err[0]).toContain(expected);
    expect(err).toContain(DEPLOY_USAGE);
    expect(sageMaker).not.toHaveReceivedCommand(DescribeModelPackageCommand);
  });

  test('--help prints the usage, which tells about the queue and "Already live"', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(['deploy', '--help'], context)).toBe(0);

    const usage = out.join('\n');
    expect(out[0]).toBe(DEPLOY_USAGE);
    expect(usage).toContain('queues behind it');
    expect(usage).toContain('"Already live"');
  });

  test('no --by and no OS user name: usage error before any call', async () => {
    const { context, err } = capturedContext({ userName: undefined });

    expect(await runCli(args(), context)).toBe(2);

    expect(err[0]).toBe('operator deploy: --by: your OS user name is not available here: give --by NAME');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});

describe('deployExecutionName', () => {
  test('a 63-character group is cut so the name fits 80 characters; the version and random part stay', () => {
    const group = `a${'-b'.repeat(31)}`;
    expect(group).toHaveLength(63);

    const name = deployExecutionName(group, 123456, '0123456789abcdef');

    expect(name.length).toBeLessThanOrEqual(MAX_EXECUTION_NAME_CHARS);
    expect(name).toMatch(/^deploy-a(-b)*-v123456-01234567$/);
    expect(name).toMatch(VALID_EXECUTION_NAME);
  });

  test('a short group is kept whole', () => {
    expect(deployExecutionName('churn', 7, 'deadbeefcafe')).toBe('deploy-churn-v7-deadbeef');
  });
});

describe('approvalEventFor', () => {
  test('takes account and region from the package, and EventBridge\'s second-precision time', () => {
    const event = approvalEventFor(
      { arn: 'arn:aws:sagemaker:ap-south-1:210987654321:model-package/fraud/3', groupName: 'fraud', version: 3, region: 'ap-south-1', account: '210987654321' },
      'id-1',
      new Date('2025-01-02T03:04:05.678Z'),
    );

    expect(event).toMatchObject({ account: '210987654321', region: 'ap-south-1', time: '2025-01-02T03:04:05Z', source: APPROVAL_EVENT_SOURCE, 'detail-type': APPROVAL_EVENT_DETAIL_TYPE });
    expect(event.detail).not.toHaveProperty('CreationTime');
    expect(ModelPackageStateChangeEventSchema.safeParse(event).success).toBe(true);
  });
});

describe('executionConsoleUrl', () => {
  test.each([
    ['arn:aws:states:eu-west-1:123456789012:execution:M:n', 'https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/'],
    ['arn:aws-cn:states:cn-north-1:123456789012:execution:M:n', 'https://console.amazonaws.cn/states/home?region=cn-north-1#/v2/executions/details/'],
  ])('%s', (arn, prefix) => {
    expect(executionConsoleUrl(arn)).toBe(`${prefix}${arn}`);
  });

  test('an unknown partition has no link', () => {
    expect(executionConsoleUrl('arn:aws-iso:states:us-iso-east-1:123456789012:execution:M:n')).toBeUndefined();
  });
});
