import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { truncateAnnotationValue, ANNOTATION_VALUE_MAX_CHARACTERS } from '../../lambdas/shared/tracing';

type TracingModule = typeof import('../../lambdas/shared/tracing');
type AwsClientsModule = typeof import('../../lambdas/shared/aws-clients');
type LoggerModule = typeof import('../../lambdas/shared/logger');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const XRAY_MIDDLEWARE = 'XRaySDKInstrumentation';
const xrayMiddlewareOf = (client: { middlewareStack: { identify(): string[] } }) =>
  client.middlewareStack.identify().filter((entry) => entry.startsWith(XRAY_MIDDLEWARE));

describe('outside Lambda (tests, rehearsal, CLI)', () => {
  let tracing: TracingModule;
  let awsClients: AwsClientsModule;
  let logging: LoggerModule;
  let tracerPackageLoaded: boolean;

  beforeAll(() => {
    const executionEnv = process.env.AWS_EXECUTION_ENV;
    delete process.env.AWS_EXECUTION_ENV;
    tracerPackageLoaded = false;
    jest.isolateModules(() => {
      // Records whether the module loads the tracer package (and with it the X-Ray SDK's process-wide async hook).
      jest.doMock('@aws-lambda-powertools/tracer', () => {
        tracerPackageLoaded = true;
        return jest.requireActual('@aws-lambda-powertools/tracer');
      });
      tracing = require('../../lambdas/shared/tracing') as TracingModule;
      awsClients = require('../../lambdas/shared/aws-clients') as AwsClientsModule;
      logging = require('../../lambdas/shared/logger') as LoggerModule;
    });
    if (executionEnv !== undefined) process.env.AWS_EXECUTION_ENV = executionEnv;
  });

  afterEach(() => jest.restoreAllMocks());

  test('does not load the tracer package: there is no tracer', () => {
    expect(tracing.tracer).toBeUndefined();
    tracing.traceAwsClient(new SFNClient({ region: 'us-east-1' }));
    tracing.annotateRollout({ endpointName: 'ep' });
    expect(tracerPackageLoaded).toBe(false);
  });

  test('traceAwsClient returns the very same client, without X-Ray middleware; so do the shared clients', () => {
    const client = new SFNClient({ region: 'us-east-1' });
    const before = client.middlewareStack.identify();
    expect(tracing.traceAwsClient(client)).toBe(client);
    expect(client.middlewareStack.identify()).toEqual(before);
    expect(xrayMiddlewareOf(awsClients.sfnClient())).toEqual([]);
    expect(xrayMiddlewareOf(awsClients.sageMakerClient())).toEqual([]);
  });

  test('annotateRollout (also through the log-key helpers) is a silent no-op', () => {
    const warn = jest.spyOn(console, 'warn');
    const log = jest.spyOn(console, 'log');
    const logger = logging.createLogger('check-step');
    expect(() => tracing.annotateRollout({ endpointName: 'ep', executionArn: 'arn' })).not.toThrow();
    expect(() => logging.setInvocationLogKeys(logger, { endpointName: 'ep' })).not.toThrow();
    expect(() => logging.appendLogKeys(logger, { deploymentId: 'd' })).not.toThrow();
    expect(warn).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });

  test('traceInvocation runs the work: its result and its very error pass through', async () => {
    await expect(tracing.traceInvocation('check-step', async () => 42)).resolves.toBe(42);
    const failure = new Error('boom');
    await expect(
      tracing.traceInvocation('check-step', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
  });
});

describe('truncateAnnotationValue', () => {
  test('keeps a value within X-Ray\'s 1,000 characters and cuts a longer one without splitting a character', () => {
    expect(truncateAnnotationValue('arn:aws:sagemaker:x')).toBe('arn:aws:sagemaker:x');
    expect(truncateAnnotationValue('a'.repeat(1200))).toHaveLength(ANNOTATION_VALUE_MAX_CHARACTERS);
    const emoji = '😀'.repeat(1001); // 2 UTF-16 code units each
    const cut = truncateAnnotationValue(emoji);
    expect(Array.from(cut)).toHaveLength(ANNOTATION_VALUE_MAX_CHARACTERS);
    expect(cut).toBe('😀'.repeat(ANNOTATION_VALUE_MAX_CHARACTERS));
  });
});

/**
 * In Lambda, in a child process: the X-Ray SDK installs a process-wide async hook and patches globals when it
 * loads, which must not leak into the other test files of this jest worker. The child sets the environment Lambda
 * sets, runs a local UDP "daemon" (AWS_XRAY_DAEMON_ADDRESS, loopback) and reports the segment documents it got.
 */
const LAMBDA_DRIVER = String.raw`
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

const REPO = process.argv[2];
const repoRequire = createRequire(REPO + '/package.json');
const received: string[] = [];
const daemon = createSocket('udp4');
daemon.on('message', (message) => received.push(message.toString('utf8')));
daemon.bind(0, '127.0.0.1', () => {
  process.env.AWS_XRAY_DAEMON_ADDRESS = '127.0.0.1:' + daemon.address().port;
  run().then(
    (report) => process.stdout.write(JSON.stringify(report) + '\n'),
    (error) => process.stdout.write(JSON.stringify({ driverError: String(error && error.stack) }) + '\n'),
  ).finally(() => daemon.close());
});

async function run() {
  const tracing = require(REPO + '/lambdas/shared/tracing');
  const clients = require(REPO + '/lambdas/shared/aws-clients');
  const logging = require(REPO + '/lambdas/shared/logger');
  const { ListStateMachinesCommand } = repoRequire('@aws-sdk/client-sfn');
  const { HttpResponse } = repoRequire('@smithy/protocol-http');
  const traceHeaders: unknown[] = [];
  clients.configureAwsClients({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: {
      handle: async (request: { headers: Record<string, string> }) => {
        traceHeaders.push(request.headers['X-Amzn-Trace-Id']);
        const body = Readable.from([Buffer.from('{"stateMachines":[]}')]);
        return { response: new HttpResponse({ statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body }) };
      },
    },
  });
  const sfn = clients.sfnClient();
  tracing.traceAwsClient(sfn); // a second wrap must not add a second middleware
  // Before any subsegment: Lambda's facade segment takes no annotations; this must be a silent no-op.
  tracing.annotateRollout({ endpointName: 'outside-any-subsegment' });

  const logger = logging.createLogger('check-step');
  const result = await tracing.traceInvocation('check-step', async () => {
    logging.setInvocationLogKeys(logger, { endpointName: 'fraud-detector-prod', modelPackageArn: 'a'.repeat(1200), executionArn: 'arn:aws:states:us-east-1:123456789012:execution:m:e' });
    logging.appendLogKeys(logger, { deploymentId: 'd-123' });
    await sfn.send(new ListStateMachinesCommand({}));
    return 'done';
  });
  let failure: string | undefined;
  try {
    await tracing.traceInvocation('failing-step', async () => {
      throw new Error('boom');
    });
  } catch (error) {
    failure = (error as Error).message;
  }
  const deadline = Date.now() + 5000;
  while (received.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return {
    enabled: tracing.tracer?.isTracingEnabled(),
    middleware: sfn.middlewareStack.identify(),
    traceHeaders,
    result,
    failure,
    received,
  };
}
`;

const TRACE_ROOT = '1-5759e988-bd862e3fe1be46a994272793';

interface SegmentDocument {
  readonly id: string;
  readonly name: string;
  readonly trace_id: string;
  readonly parent_id?: string;
  readonly annotations?: Record<string, unknown>;
  readonly fault?: boolean;
  readonly error?: boolean;
  readonly cause?: { exceptions?: { message: string }[] };
}

describe('in Lambda (AWS_EXECUTION_ENV, _X_AMZN_TRACE_ID, LAMBDA_TASK_ROOT set), in a child process', () => {
  let report: { enabled: boolean; middleware: string[]; traceHeaders: string[]; result: string; failure: string; received: string[] };
  let stderr: string;
  let stdoutLines: string[];

  beforeAll(() => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tracing-driver-'));
    try {
      const driver = path.join(dir, 'driver.ts');
      writeFileSync(driver, LAMBDA_DRIVER);
      const child = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), driver, REPO_ROOT], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 50_000,
        env: {
          PATH: process.env.PATH,
          // The SDK's Node 20 end-of-support notice is a process warning, not output of the code under test.
          NODE_OPTIONS: '--no-warnings',
          AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
          AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
          LAMBDA_TASK_ROOT: '/var/task',
          _X_AMZN_TRACE_ID: `Root=${TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1`,
          POWERTOOLS_LOG_LEVEL: 'SILENT',
        },
      });
      stderr = child.stderr;
      stdoutLines = child.stdout.split('\n').filter((line) => line.length > 0);
      report = JSON.parse(stdoutLines[stdoutLines.length - 1] ?? '{}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const documents = (): SegmentDocument[] =>
    report.received.map((datagram) => {
      const [header, body] = datagram.split('\n');
      expect(JSON.parse(header)).toEqual({ format: 'json', version: 1 });
      return JSON.parse(body) as SegmentDocument;
    });
  const named = (name: string) => documents().find((document) => document.name === name);

  test('the driver ran, and nothing but its report was printed (no warning from Tracer or the X-Ray SDK)', () => {
    expect(report).not.toHaveProperty('driverError');
    expect(stderr).toBe('');
    expect(stdoutLines).toHaveLength(1);
    expect(report.enabled).toBe(true);
  });

  test('the shared clients carry X-Ray middleware, once, and send the trace header of their subsegment', () => {
    expect(report.middleware.filter((entry) => entry.startsWith(XRAY_MIDDLEWARE))).toEqual([`${XRAY_MIDDLEWARE} - build`]);
    const sfnCall = named('SFN');
    expect(sfnCall).toBeDefined();
    expect(report.traceHeaders).toEqual([`Root=${TRACE_ROOT};Parent=${sfnCall?.id};Sampled=1`]);
  });

  test('traceInvocation opens "## <step>" with the rollout annotations (truncated to 1,000 characters) and nests the AWS calls', () => {
    expect(report.result).toBe('done');
    const invocation = named('## check-step');
    expect(invocation?.trace_id).toBe(TRACE_ROOT);
    expect(invocation?.annotations).toEqual({
      ColdStart: true,
      Service: 'sagemaker-blue-green',
      endpointName: 'fraud-detector-prod',
      modelPackageArn: 'a'.repeat(ANNOTATION_VALUE_MAX_CHARACTERS),
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:m:e',
      deploymentId: 'd-123',
    });
    expect(named('SFN')?.parent_id).toBe(invocation?.id);
    expect(documents().some((document) => JSON.stringify(document.annotations ?? {}).includes('outside-any-subsegment'))).toBe(false);
  });

  test('a failing invocation rethrows its error and records it on its subsegment', () => {
    expect(report.failure).toBe('boom');
    const failed = named('## failing-step');
    expect(failed?.annotations).toMatchObject({ ColdStart: false });
    expect(failed?.error || failed?.fault).toBe(true);
    expect(failed?.cause?.exceptions?.[0]?.message).toBe('boom');
  });
});
