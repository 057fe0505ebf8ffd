/**
 * The rehearsal's simulated AWS does not enforce IAM, so a handler calling an API its role lacks would
 * only fail in AWS, with AccessDenied. This reads the handlers' sources (their own files and the
 * lambdas/shared helpers they call, transitively) for SDK commands, maps each to the IAM actions that
 * authorize it (by the client package it is imported from), and checks that the function's role is granted them.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ARTIFACTS_BUCKET_ENV } from '../../lambdas/shared/artifacts';
import { ROLLOUT_HISTORY_TABLE_ENV } from '../../lambdas/shared/audit-trail';
import { LIFECYCLE_BUS_ENV } from '../../lambdas/shared/lifecycle-events';
import { ROLLOUTS_TABLE_ENV } from '../../lambdas/shared/rollout-record';
import { ALL_FUNCTION_DIRS, flatten, functionLogicalId, grantsOfStep, REPO_ROOT, synthStack } from './helpers';

const LAMBDAS_DIR = path.join(REPO_ROOT, 'lambdas');
const SHARED_DIR = path.join(LAMBDAS_DIR, 'shared');
const SENT_COMMAND = /new ([A-Z][A-Za-z0-9]+)Command\(/g;

/**
 * S3 operations authorized by an action of another name
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).
 */
const S3_ACTION_OF_OPERATION: Readonly<Record<string, string>> = {
  HeadObject: 's3:GetObject',
  ListObjects: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  HeadBucket: 's3:ListBucket',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
};

/**
 * Actions an operation needs besides its own (dependent actions), where the services document them:
 * - SageMaker creations with Tags (this system tags everything it creates) need sagemaker:AddTags, and CreateModel
 *   passes the execution role (iam:PassRole);
 * - PutMetricAlarm with Tags (the rollout's alarms always carry them) is also authorized as cloudwatch:TagResource;
 * - RegisterScalableTarget may create Application Auto Scaling's service-linked role for SageMaker, and Application
 *   Auto Scaling validates that the caller may describe the endpoint and its config and change its weights
 *   ("Permissions validation for API calls on target resources"; SageMaker's auto scaling prerequisites).
 */
const DEPENDENT_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  'sagemaker:CreateModel': ['sagemaker:AddTags', 'iam:PassRole'],
  'sagemaker:CreateEndpointConfig': ['sagemaker:AddTags'],
  'sagemaker:CreateEndpoint': ['sagemaker:AddTags'],
  'cloudwatch:PutMetricAlarm': ['cloudwatch:TagResource'],
  'application-autoscaling:RegisterScalableTarget': [
    'iam:CreateServiceLinkedRole',
    'sagemaker:DescribeEndpoint',
    'sagemaker:DescribeEndpointConfig',
    'sagemaker:UpdateEndpointWeightsAndCapacities',
  ],
};

/** The IAM action authorizing an SDK operation of a client package; throws for a client this table lacks. */
function iamActionFor(clientPackage: string, operation: string): string {
  switch (clientPackage) {
    case '@aws-sdk/client-sagemaker':
    // SageMaker Runtime's InvokeEndpoint is authorized as sagemaker:InvokeEndpoint.
    case '@aws-sdk/client-sagemaker-runtime':
      return `sagemaker:${operation}`;
    case '@aws-sdk/client-s3':
      return S3_ACTION_OF_OPERATION[operation] ?? `s3:${operation}`;
    case '@aws-sdk/client-cloudwatch':
      return `cloudwatch:${operation}`;
    case '@aws-sdk/client-application-auto-scaling':
      return `application-autoscaling:${operation}`;
    case '@aws-sdk/client-dynamodb':
      return `dynamodb:${operation}`;
    case '@aws-sdk/client-sfn':
      return `states:${operation}`;
    case '@aws-sdk/client-service-quotas':
      return `servicequotas:${operation}`;
    case '@aws-sdk/client-eventbridge':
      return `events:${operation}`;
    default:
      throw new Error(`${operation}Command comes from ${clientPackage}: add its IAM actions to this test`);
  }
}

/** Every IAM action an SDK operation needs: its own and its dependent actions. */
function iamActionsFor(clientPackage: string, operation: string): string[] {
  const action = iamActionFor(clientPackage, operation);
  return [action, ...(DEPENDENT_ACTIONS[action] ?? [])];
}

const sourcesIn = (directory: string) =>
  readdirSync(directory)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => readFileSync(path.join(directory, file), 'utf8'));

/** `XCommand` -> the @aws-sdk client package it is imported from, in one source. */
function commandPackages(source: string): Map<string, string> {
  const packages = new Map<string, string>();
  for (const match of source.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/[^']+)'/g)) {
    for (const name of match[1].split(',').map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0])) {
      if (name.endsWith('Command')) packages.set(name, match[2]);
    }
  }
  return packages;
}

/** The IAM actions of the commands a chunk of `source` sends (type-only mentions are not sends). */
function actionsSentIn(chunk: string, packages: Map<string, string>, where: string): Set<string> {
  const actions = new Set<string>();
  for (const match of chunk.matchAll(SENT_COMMAND)) {
    const clientPackage = packages.get(`${match[1]}Command`);
    if (!clientPackage) throw new Error(`${where}: ${match[1]}Command is sent but not imported from an @aws-sdk client`);
    iamActionsFor(clientPackage, match[1]).forEach((action) => actions.add(action));
  }
  return actions;
}

interface SharedHelper {
  readonly exported: boolean;
  readonly actions: Set<string>;
  /** The declaration's text, to find which other helpers it calls. */
  readonly body: string;
}

/** A top-level declaration of a lambdas/shared file: its text runs up to the next one. */
const TOP_LEVEL_DECLARATION = /^(?=(?:export\s+)?(?:async\s+)?(?:function\*?|const|let|class)\s)/m;
const DECLARED_NAME = /^(export\s+)?(?:async\s+)?(?:function\*?|const|let|class)\s+(\w+)/;

/**
 * For each exported function of lambdas/shared, the IAM actions it needs: the commands its body sends and
 * those of the shared functions (exported or not) it calls, transitively.
 */
function sharedHelperActions(): Map<string, Set<string>> {
  const helpers = new Map<string, SharedHelper>();
  for (const file of readdirSync(SHARED_DIR).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(path.join(SHARED_DIR, file), 'utf8');
    const packages = commandPackages(source);
    for (const chunk of source.split(TOP_LEVEL_DECLARATION)) {
      const declared = DECLARED_NAME.exec(chunk);
      if (!declared) continue;
      helpers.set(declared[2], { exported: Boolean(declared[1]), actions: actionsSentIn(chunk, packages, `lambdas/shared/${file}`), body: chunk });
    }
  }
  const closed = new Map([...helpers].map(([name, helper]) => [name, new Set(helper.actions)]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, helper] of helpers) {
      const mine = closed.get(name)!;
      for (const [other, otherActions] of closed) {
        if (other === name || !new RegExp(`\\b${other}\\(`).test(helper.body)) continue;
        for (const action of otherActions) {
          if (!mine.has(action)) {
            mine.add(action);
            changed = true;
          }
        }
      }
    }
  }
  // Handlers can call only what is exported.
  return new Map([...closed].filter(([name]) => helpers.get(name)!.exported));
}

/** A relative import of another function's module (`'../restore-blue/restore'`): lambdas/shared is scanned by helper. */
const OTHER_STEP_IMPORT = /from\s*'\.\.\/((?!shared\/)[a-z0-9-]+\/[A-Za-z0-9_-]+)'/g;

/**
 * The IAM actions one handler file needs: the commands it sends, the lambdas/shared helpers it calls, and
 * (transitively) everything another function's module it imports needs. reconcile-rollout runs restore-blue's,
 * delete-resources' and release-rollout's logic by importing it, so it needs their grants too.
 */
function actionsOfFile(file: string, helpers: Map<string, Set<string>>, visited: Set<string>): Set<string> {
  const actions = new Set<string>();
  if (visited.has(file)) return actions;
  visited.add(file);
  const source = readFileSync(file, 'utf8');
  const where = path.relative(REPO_ROOT, file);
  actionsSentIn(source, commandPackages(source), where).forEach((a) => actions.add(a));
  for (const [helper, helperActions] of helpers) {
    if (new RegExp(`\\b${helper}\\(`).test(source)) helperActions.forEach((a) => actions.add(a));
  }
  for (const match of source.matchAll(OTHER_STEP_IMPORT)) {
    const imported = path.join(path.dirname(file), '..', `${match[1]}.ts`);
    if (!existsSync(imported)) throw new Error(`${where} imports ${match[1]}, which is not a .ts file under lambdas/`);
    actionsOfFile(imported, helpers, visited).forEach((a) => actions.add(a));
  }
  return actions;
}

/**
 * The IAM actions a function's handler needs, for what it sends directly, through a lambdas/shared helper, or
 * through another function's module it imports.
 */
function actionsOf(dir: string, helpers: Map<string, Set<string>>): Set<string> {
  const actions = new Set<string>();
  const visited = new Set<string>();
  const directory = path.join(LAMBDAS_DIR, dir);
  for (const file of readdirSync(directory).filter((f) => f.endsWith('.ts'))) {
    actionsOfFile(path.join(directory, file), helpers, visited).forEach((a) => actions.add(a));
  }
  return actions;
}

const { template } = synthStack();
const helpers = sharedHelperActions();
/** Every function: the rollout steps, the event handlers and the reconciler's function. */
const FUNCTION_DIRS = ALL_FUNCTION_DIRS;
/** The queues Lambda sends a function's failed asynchronous invocations to (on-failure destinations). */
const failureDestinations = new Set(
  Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).map((config) =>
    flatten((config as { Properties: { DestinationConfig: { OnFailure: { Destination: unknown } } } }).Properties.DestinationConfig.OnFailure.Destination),
  ),
);
/**
 * The service actions of a function's role, without what CDK adds for the function itself to run: its logs,
 * X-Ray, and sending its failed asynchronous invocations to their destination (Lambda does that with the role).
 */
const serviceActions = (dir: string) =>
  grantsOfStep(template, dir)
    .filter((g) => !/^(logs|xray):/.test(g.action) && !(g.action.startsWith('sqs:') && failureDestinations.has(g.resource)))
    .map((g) => g.action);
const environmentOf = (dir: string) =>
  (template.toJSON().Resources[functionLogicalId(template, dir)].Properties.Environment.Variables ?? {}) as Record<string, unknown>;

test('every step, event handler and the reconciler function has a handler at lambdas/<dir>/index.ts', () => {
  const missing = FUNCTION_DIRS.filter((dir) => !existsSync(path.join(LAMBDAS_DIR, dir, 'index.ts')));
  expect(missing).toEqual([]);
});

test.each(FUNCTION_DIRS)('%s is granted every action its handler needs (SageMaker, S3, CloudWatch, Auto Scaling, DynamoDB, Step Functions, EventBridge)', (dir) => {
  const granted = new Set(grantsOfStep(template, dir).map((g) => g.action));
  const missing = [...actionsOf(dir, helpers)].filter((action) => !granted.has(action));
  expect(missing).toEqual([]);
});

test.each(FUNCTION_DIRS)('%s is granted no service action its handler does not need', (dir) => {
  const needed = actionsOf(dir, helpers);
  expect([...new Set(serviceActions(dir).filter((action) => !needed.has(action)))]).toEqual([]);
});

test.each(FUNCTION_DIRS)('%s has service permissions exactly when its handler sends SDK commands', (dir) => {
  if (actionsOf(dir, helpers).size === 0) expect(serviceActions(dir)).toEqual([]);
  else expect(serviceActions(dir).length).toBeGreaterThan(0);
});

test.each(FUNCTION_DIRS)('%s has ARTIFACTS_BUCKET in its environment exactly when its handler reads it', (dir) => {
  const readsBucket = sourcesIn(path.join(LAMBDAS_DIR, dir)).some((source) => /\bartifactsBucket\(|\bARTIFACTS_BUCKET_ENV\b/.test(source));
  expect([dir, ARTIFACTS_BUCKET_ENV in environmentOf(dir)]).toEqual([dir, readsBucket]);
});

test.each(FUNCTION_DIRS)('%s has ROLLOUTS_TABLE in its environment exactly when its handler reads it', (dir) => {
  const readsTable = sourcesIn(path.join(LAMBDAS_DIR, dir)).some((source) => /\brolloutsTableName\(|\bROLLOUTS_TABLE_ENV\b/.test(source));
  expect([dir, ROLLOUTS_TABLE_ENV in environmentOf(dir)]).toEqual([dir, readsTable]);
});

/** A handler that builds its lifecycle sink from the environment reads both the history table's and the bus's names. */
const BUILDS_LIFECYCLE_SINK = /\blifecycleSinkFromEnvironment\(/;

test.each(FUNCTION_DIRS)('%s has ROLLOUT_HISTORY_TABLE in its environment exactly when its handler reads it', (dir) => {
  const readsTable = sourcesIn(path.join(LAMBDAS_DIR, dir)).some(
    (source) => BUILDS_LIFECYCLE_SINK.test(source) || /\brolloutHistoryTableName\(|\bROLLOUT_HISTORY_TABLE_ENV\b/.test(source),
  );
  expect([dir, ROLLOUT_HISTORY_TABLE_ENV in environmentOf(dir)]).toEqual([dir, readsTable]);
});

test.each(FUNCTION_DIRS)('%s has LIFECYCLE_EVENT_BUS in its environment exactly when its handler reads it', (dir) => {
  const readsBus = sourcesIn(path.join(LAMBDAS_DIR, dir)).some((source) => BUILDS_LIFECYCLE_SINK.test(source) || /\bLIFECYCLE_BUS_ENV\b/.test(source));
  expect([dir, LIFECYCLE_BUS_ENV in environmentOf(dir)]).toEqual([dir, readsBus]);
});

describe('the scan (controls: it can fail)', () => {
  test('finds direct, shared and transitive calls of known handlers', () => {
    // provision-green sends CreateModel through lambdas/shared/sagemaker.ts.
    expect(actionsOf('provision-green', helpers)).toContain('sagemaker:CreateModel');
    // smoke-check invokes directly and reads its first payload through the shared payload reader.
    expect([...actionsOf('smoke-check', helpers)].sort()).toEqual(expect.arrayContaining(['sagemaker:InvokeEndpoint', 's3:GetObject']));
    // plan-validation calls planBatches, which reads through an unexported helper of lambdas/shared/payloads.ts.
    expect(actionsOf('plan-validation', helpers)).toEqual(new Set(['s3:GetObject']));
  });

  test('finds the new steps\' CloudWatch, DynamoDB, Auto Scaling and Step Functions calls, through shared helpers too', () => {
    // arm-alarms puts alarms itself, describes through lambdas/shared/alarms.ts, adds them to the endpoint's lock
    // through rollout-record.ts (a conditional update, which reads the record back when it fails).
    expect([...actionsOf('arm-alarms', helpers)].sort()).toEqual(
      ['cloudwatch:DescribeAlarms', 'cloudwatch:PutMetricAlarm', 'cloudwatch:TagResource', 'dynamodb:GetItem', 'dynamodb:UpdateItem'].sort(),
    );
    // on-alarm reaches SendTaskFailure and the blue probe through lambdas/shared/rollback.ts, two levels down.
    expect([...actionsOf('on-alarm', helpers)]).toEqual(expect.arrayContaining(['states:SendTaskFailure', 'sagemaker:InvokeEndpoint', 'dynamodb:UpdateItem']));
    expect(actionsOf('hold-blue-capacity', helpers)).toContain('iam:CreateServiceLinkedRole');
  });

  test("follows another function's module a handler imports (reconcile-rollout runs restore-blue's, delete-resources' and release-rollout's logic)", () => {
    const reconcile = actionsOf('reconcile-rollout', helpers);
    // Sent only by lambdas/restore-blue, lambdas/delete-resources and lambdas/release-rollout, not by reconcile-rollout's own files.
    expect([...reconcile]).toEqual(expect.arrayContaining(['sagemaker:UpdateEndpoint', 'sagemaker:DeleteModel', 'cloudwatch:DeleteAlarms']));
    // Its own lookup of the execution's lock (a Scan, through lambdas/shared/rollout-record.ts).
    expect(reconcile).toContain('dynamodb:Scan');
    // check-capacity asks Service Quotas through lambdas/shared/capacity.ts.
    expect(actionsOf('check-capacity', helpers)).toContain('servicequotas:ListServiceQuotas');
  });

  test('finds lifecycle recording through lambdas/shared: the audit item (a conditional PutItem) and the event (PutEvents)', () => {
    // record-approval only records an event, through recordLifecycleEvent (lifecycle-events.ts -> audit-trail.ts).
    expect(actionsOf('record-approval', helpers)).toEqual(new Set(['dynamodb:PutItem', 'events:PutEvents']));
    // lock-endpoint also writes the rollout's header (putRolloutHeader), a PutItem too.
    expect([...actionsOf('lock-endpoint', helpers)]).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'events:PutEvents']));
  });

  test('maps operations to the actions that authorize them, with dependent actions, and refuses an unknown client', () => {
    expect(iamActionFor('@aws-sdk/client-s3', 'HeadObject')).toBe('s3:GetObject');
    expect(iamActionFor('@aws-sdk/client-s3', 'ListObjectsV2')).toBe('s3:ListBucket');
    expect(iamActionFor('@aws-sdk/client-s3', 'PutObject')).toBe('s3:PutObject');
    expect(iamActionFor('@aws-sdk/client-sagemaker-runtime', 'InvokeEndpoint')).toBe('sagemaker:InvokeEndpoint');
    expect(iamActionFor('@aws-sdk/client-sfn', 'SendTaskFailure')).toBe('states:SendTaskFailure');
    expect(iamActionFor('@aws-sdk/client-service-quotas', 'ListServiceQuotas')).toBe('servicequotas:ListServiceQuotas');
    expect(iamActionsFor('@aws-sdk/client-cloudwatch', 'PutMetricAlarm')).toEqual(['cloudwatch:PutMetricAlarm', 'cloudwatch:TagResource']);
    expect(iamActionsFor('@aws-sdk/client-application-auto-scaling', 'RegisterScalableTarget')).toContain('iam:CreateServiceLinkedRole');
    expect(iamActionsFor('@aws-sdk/client-dynamodb', 'GetItem')).toEqual(['dynamodb:GetItem']);
    expect(iamActionFor('@aws-sdk/client-eventbridge', 'PutEvents')).toBe('events:PutEvents');
    expect(() => iamActionFor('@aws-sdk/client-ec2', 'RunInstances')).toThrow(/client-ec2: add its IAM actions/);
  });

  test('reads command imports, renamed and type-only ones included', () => {
    const source = "import { GetObjectCommand as Get, type PutObjectCommand, S3Client } from '@aws-sdk/client-s3';";
    expect([...commandPackages(source)]).toEqual([
      ['GetObjectCommand', '@aws-sdk/client-s3'],
      ['PutObjectCommand', '@aws-sdk/client-s3'],
    ]);
  });
});

test('a stack whose handlers are missing fails synth, listing every missing entry', () => {
  const empty = mkdtempSync(path.join(tmpdir(), 'no-handlers-'));
  expect(() => synthStack({ handlersDirectory: empty })).toThrow(
    new RegExp(`Missing rollout handlers .*${path.join(empty, 'resolve-rollout', 'index.ts')}.*${path.join(empty, 'delete-resources', 'index.ts')}`),
  );
});
