/**
 * The world's new services end to end: the transport serves CloudWatch, Application Auto Scaling, DynamoDB and
 * Step Functions on their hosts with their JSON error renderings, the minute metrics tick feeds CloudWatch and auto
 * scaling from production traffic, and calls are classified as mutating or not.
 */
import { Readable } from 'node:stream';
import { ApplicationAutoScalingClient, PutScalingPolicyCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DeleteAlarmsCommand, DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { HttpRequest, type HttpResponse } from '@smithy/protocol-http';
import { readBody } from '../../../rehearsal/sim/transport';
import { isMutatingOperation, SimulatedAws } from '../../../rehearsal/sim/world';
import { advanceSeconds, drive, driveError, IMAGE, installClock, type FakeClock } from './helpers';

const ENDPOINT = 'fraud-prod';

let clock: FakeClock;

beforeEach(() => {
  clock = installClock();
});
afterEach(() => clock.uninstall());

function seed(aws: SimulatedAws): void {
  aws.sagemaker.seedEndpoint({
    endpointName: ENDPOINT,
    endpointConfigName: 'blue-green-config',
    variants: [
      { variantName: 'blue', modelName: 'blue-model', image: IMAGE, instanceType: 'ml.g5.xlarge', instanceCount: 4, weight: 0 },
      { variantName: 'green', modelName: 'green-model', image: IMAGE, instanceType: 'ml.g5.xlarge', instanceCount: 1, weight: 1 },
    ],
  });
}

async function raw(aws: SimulatedAws, hostname: string, target: string, body: unknown): Promise<{ response: HttpResponse; json: Record<string, unknown> }> {
  const request = new HttpRequest({
    protocol: 'https:',
    hostname,
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target },
    body: JSON.stringify(body),
  });
  const { response } = await drive(clock, aws.requestHandler.handle(request));
  expect(response.body).toBeInstanceOf(Readable);
  return { response, json: JSON.parse(new TextDecoder().decode(await readBody(response.body))) as Record<string, unknown> };
}

describe('the transport on the wire', () => {
  test('DynamoDB errors carry the namespaced __type and x-amzn-errortype', async () => {
    const aws = new SimulatedAws();
    const missing = await raw(aws, 'dynamodb.us-east-1.amazonaws.com', 'DynamoDB_20120810.GetItem', { TableName: 'nope', Key: { k: { S: 'x' } } });
    expect(missing.response.statusCode).toBe(400);
    expect(missing.response.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(missing.response.headers['x-amzn-errortype']).toBe('ResourceNotFoundException');
    expect(missing.json).toEqual({ __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'Requested resource not found' });
    const invalid = await raw(aws, '123456789012.ddb.us-east-1.amazonaws.com', 'DynamoDB_20120810.GetItem', {});
    expect(invalid.json.__type).toBe('com.amazon.coral.validate#ValidationException');
    const unknown = await raw(aws, 'dynamodb.us-east-1.amazonaws.com', 'DynamoDB_20120810.CreateTable', {});
    expect(unknown.json.__type).toBe('com.amazon.coral.service#UnknownOperationException');
    expect(aws.calls.map((call) => [call.service, call.operation, call.error])).toEqual([
      ['dynamodb', 'GetItem', 'ResourceNotFoundException'],
      ['dynamodb', 'GetItem', 'ValidationException'],
      ['dynamodb', 'CreateTable', 'UnknownOperationException'],
    ]);
  });

  test('Application Auto Scaling (awsJson1_1) names the message member Message; Step Functions answers on states.*', async () => {
    const aws = new SimulatedAws();
    const scaling = await raw(aws, 'application-autoscaling.us-east-1.amazonaws.com', 'AnyScaleFrontendService.DeregisterScalableTarget', {
      ServiceNamespace: 'sagemaker',
      ResourceId: 'endpoint/e/variant/v',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    });
    expect(scaling.response.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(scaling.json).toEqual({
      __type: 'ObjectNotFoundException',
      Message: 'No scalable target registered for service namespace: sagemaker, resource ID: endpoint/e/variant/v, scalable dimension: sagemaker:variant:DesiredInstanceCount',
    });
    const sfn = await raw(aws, 'states.us-east-1.amazonaws.com', 'AWSStepFunctions.SendTaskHeartbeat', { taskToken: 'never-issued' });
    expect([sfn.response.headers['x-amzn-errortype'], sfn.json.message]).toEqual(['InvalidToken', "Invalid Token: 'Invalid token'"]);
  });

  test('CloudWatch through the SDK: alarms round-trip and errors keep their query-compatible names', async () => {
    const aws = new SimulatedAws();
    const cloudwatch = new CloudWatchClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler, maxAttempts: 1 });
    await drive(
      clock,
      cloudwatch.send(
        new PutMetricAlarmCommand({
          AlarmName: 'green-errors',
          Namespace: 'AWS/SageMaker',
          MetricName: 'Invocation5XXErrors',
          Dimensions: [
            { Name: 'EndpointName', Value: ENDPOINT },
            { Name: 'VariantName', Value: 'green' },
          ],
          Statistic: 'Average',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 0.05,
          ComparisonOperator: 'GreaterThanThreshold',
        }),
      ),
    );
    const { MetricAlarms } = await drive(clock, cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['green-errors'] })));
    expect(MetricAlarms?.map((alarm) => [alarm.AlarmName, alarm.StateValue])).toEqual([['green-errors', 'INSUFFICIENT_DATA']]);
    expect(aws.calls.map((call) => [call.service, call.operation])).toEqual([
      ['cloudwatch', 'PutMetricAlarm'],
      ['cloudwatch', 'DescribeAlarms'],
    ]);
    const invalid = await driveError(clock, cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['a'], AlarmNamePrefix: 'a' })));
    expect([invalid.name, invalid.$metadata.httpStatusCode]).toEqual(['InvalidParameterCombinationException', 400]);
    expect(aws.calls.at(-1)?.error).toBe('InvalidParameterCombination');
    // Deleting alarms that do not exist is not an error in CloudWatch.
    await drive(clock, cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: ['green-errors'] })));
    expect(aws.cloudwatch.alarmNames()).toEqual([]);
  });

  test('a host of another region is not served, and the error lists the served hosts', async () => {
    const aws = new SimulatedAws();
    const request = new HttpRequest({ protocol: 'https:', hostname: 'dynamodb.eu-west-1.amazonaws.com', method: 'POST', path: '/', headers: {}, body: '{}' });
    const error = (await aws.requestHandler.handle(request).catch((caught: unknown) => caught)) as Error & { code?: string };
    expect(error.code).toBe('ENOTFOUND');
    for (const host of ['monitoring.us-east-1', 'application-autoscaling.us-east-1', 'dynamodb.us-east-1', '123456789012.ddb.us-east-1', 'states.us-east-1']) {
      expect(error.message).toContain(host);
    }
  });
});

describe('the metrics tick', () => {
  test('every 60 virtual seconds: traffic is sampled, published to CloudWatch and evaluated by auto scaling', async () => {
    const aws = new SimulatedAws();
    seed(aws);
    await clock.runAllAsync();
    const startedAt = Date.now();
    const sample = jest.spyOn(aws.traffic, 'sample');
    const publish = jest.spyOn(aws.cloudwatch, 'publish');
    const evaluate = jest.spyOn(aws.autoscaling, 'evaluate');
    aws.startMetrics();
    aws.startMetrics();
    await advanceSeconds(clock, 59);
    expect(sample).not.toHaveBeenCalled();
    await advanceSeconds(clock, 1);
    expect(sample.mock.calls).toEqual([[60, startedAt + 60_000]]);
    const samples = sample.mock.results[0]!.value as unknown[];
    expect(publish.mock.calls).toEqual([[samples, startedAt + 60_000]]);
    expect(evaluate.mock.calls).toEqual([[samples, startedAt + 60_000, 60]]);
    await advanceSeconds(clock, 120);
    expect(sample.mock.calls.map(([, atMs]) => atMs - startedAt)).toEqual([60_000, 120_000, 180_000]);

    expect(aws.metricsRunning).toBe(true);
    aws.stopMetrics();
    expect(aws.metricsRunning).toBe(false);
    expect(clock.countTimers()).toBe(0);
    await advanceSeconds(clock, 600);
    expect(sample).toHaveBeenCalledTimes(3);
  });

  test('production traffic drains an autoscaled blue at weight 0 unless its scale-in is suspended', async () => {
    for (const suspended of [false, true]) {
      const aws = new SimulatedAws({ seed: 3, productionRequestsPerSecond: 20 });
      seed(aws);
      await clock.runAllAsync();
      const scaling = new ApplicationAutoScalingClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler, maxAttempts: 1 });
      await drive(
        clock,
        scaling.send(
          new RegisterScalableTargetCommand({
            ServiceNamespace: 'sagemaker',
            ResourceId: `endpoint/${ENDPOINT}/variant/blue`,
            ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
            MinCapacity: 1,
            MaxCapacity: 6,
            SuspendedState: { DynamicScalingInSuspended: suspended },
          }),
        ),
      );
      await drive(
        clock,
        scaling.send(
          new PutScalingPolicyCommand({
            PolicyName: 'invocations',
            ServiceNamespace: 'sagemaker',
            ResourceId: `endpoint/${ENDPOINT}/variant/blue`,
            ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
            PolicyType: 'TargetTrackingScaling',
            TargetTrackingScalingPolicyConfiguration: {
              TargetValue: 300,
              PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
            },
          }),
        ),
      );
      aws.startMetrics();
      await advanceSeconds(clock, 10 * 60);
      aws.stopMetrics();
      const blue = aws.sagemaker.endpointSnapshot(ENDPOINT)?.variants.find((variant) => variant.variantName === 'blue');
      expect([suspended, blue?.instanceCount]).toEqual([suspended, suspended ? 4 : 1]);
    }
  });

  test('productionRequestsPerSecond is handed to the traffic: 0 sends none, a negative rate is refused', async () => {
    expect(() => new SimulatedAws({ productionRequestsPerSecond: -1 })).toThrow(RangeError);
    const quiet = new SimulatedAws({ productionRequestsPerSecond: 0 });
    seed(quiet);
    await clock.runAllAsync();
    const sample = jest.spyOn(quiet.traffic, 'sample');
    quiet.startMetrics();
    await advanceSeconds(clock, 60);
    quiet.stopMetrics();
    const samples = sample.mock.results[0]!.value as { invocations: number }[];
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.map((entry) => entry.invocations)).toEqual(samples.map(() => 0));
  });
});

test('isMutatingOperation classifies the new services honestly', () => {
  const mutating: [Parameters<typeof isMutatingOperation>[0], string][] = [
    ['cloudwatch', 'PutMetricAlarm'],
    ['cloudwatch', 'DeleteAlarms'],
    ['cloudwatch', 'SetAlarmState'],
    ['application-autoscaling', 'RegisterScalableTarget'],
    ['application-autoscaling', 'DeregisterScalableTarget'],
    ['application-autoscaling', 'PutScalingPolicy'],
    ['application-autoscaling', 'DeleteScalingPolicy'],
    ['dynamodb', 'PutItem'],
    ['dynamodb', 'UpdateItem'],
    ['dynamodb', 'DeleteItem'],
    ['sfn', 'SendTaskSuccess'],
    ['sfn', 'SendTaskFailure'],
  ];
  const reads: [Parameters<typeof isMutatingOperation>[0], string][] = [
    ['cloudwatch', 'DescribeAlarms'],
    ['cloudwatch', 'GetMetricData'],
    ['cloudwatch', 'ListTagsForResource'],
    ['application-autoscaling', 'DescribeScalableTargets'],
    ['application-autoscaling', 'DescribeScalingPolicies'],
    ['dynamodb', 'GetItem'],
    ['dynamodb', 'Query'],
    ['dynamodb', 'Scan'],
  ];
  for (const [service, operation] of mutating) expect([service, operation, isMutatingOperation(service, operation)]).toEqual([service, operation, true]);
  for (const [service, operation] of reads) expect([service, operation, isMutatingOperation(service, operation)]).toEqual([service, operation, false]);
});
