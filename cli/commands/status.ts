/**
 * `status`: the rollouts in progress. For each endpoint lock (the active-rollouts table holds one per endpoint
 * while a rollout runs): the execution (status, and the state it is in), the endpoint's variants (weights,
 * instances, status), the waiting step and any rollback request from the lock, and, from the audit trail, the
 * verdicts so far and the last events. Read-only: it changes nothing.
 */
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { DescribeEndpointOutput, PendingProductionVariantSummary, ProductionVariantSummary, SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { readRolloutAudit } from '../../lambdas/shared/audit-trail';
import type { LifecycleDetail } from '../../lambdas/shared/lifecycle-events';
import type { RolloutPlan } from '../../lambdas/shared/plan';
import {
  getActiveRollout,
  getEndpointLock,
  listEndpointLocks,
  type EndpointLock,
  type RollbackRequest,
  type WatchRegistration,
} from '../../lambdas/shared/rollout-record';
import { describeEndpointConfigIfExists, describeEndpointIfExists } from '../../lambdas/shared/sagemaker';
import { awsCall, explainAwsError } from '../aws-errors';
import { OperationError, type Command, type OptionsConfig } from '../command';
import { clientsBeside, type CliContext } from '../context';
import {
  activeRolloutsTable,
  ENDPOINT_TABLE_OPTIONS,
  endpointField,
  HISTORY_TABLE_HINT,
  HISTORY_TABLE_OPTION,
  historyTableName,
  historyTableUsage,
  REGION_OPTION,
  regionField,
  rolloutHistoryTable,
  TABLE_USAGE,
  tableCall,
  tableField,
  tableName,
  type NamedTable,
} from '../options';
import { columns, formatDuration, isoSeconds, labelled, modelLabel } from './history';

/** Events of the audit trail shown per rollout: the latest ones (`history --deployment` prints them all). */
export const STATUS_LAST_EVENTS = 5;
/**
 * History events read to find the state the execution is in (one page, newest first): the last StateEntered is
 * a few events from the end (its task's scheduled/started/succeeded), so one page is plenty.
 */
const STATE_PAGE_SIZE = 100;

const StatusOptionsSchema = z.object({
  endpoint: endpointField('is shown').optional(),
  table: tableField,
  'history-table': tableField,
  region: regionField,
  json: z.boolean().optional(),
});

export type StatusOptions = z.infer<typeof StatusOptionsSchema>;

const STATUS_OPTIONS = { ...ENDPOINT_TABLE_OPTIONS, ...HISTORY_TABLE_OPTION, ...REGION_OPTION, json: { type: 'boolean' } } as const satisfies OptionsConfig;

export const statusCommand: Command<StatusOptions> = {
  name: 'status',
  summary: 'the rollouts in progress: execution state, variant weights, verdicts, last events, rollback requests',
  usage: `Usage: npx sagemaker-blue-green status [--endpoint NAME] [--table TABLE] [--history-table TABLE] [--region REGION] [--json]
       (or npm run operator -- status ...)

Shows the rollouts in progress (every endpoint's, or one endpoint's): the execution and the state it is in, the
endpoint's variants (current and desired weight, share of traffic, instances, instance type, status), the step
that watches the alarms and any rollback request, and from the audit trail the verdicts so far and the last
events. With --endpoint and no rollout in progress, shows the endpoint's variants. Changes nothing.

Options:
  --endpoint NAME   only this endpoint (default: every endpoint with a rollout in progress)
${TABLE_USAGE}
${historyTableUsage('Without it, verdicts and events are not shown.')}
  --region REGION   AWS region of the stack (default: AWS_REGION or your profile's region)
  --json            one JSON document instead (every field, times in ISO 8601)
  --help            this text`,
  options: STATUS_OPTIONS,
  schema: StatusOptionsSchema,
  run: (options, context) => status(options, context),
};

/** One production variant of the endpoint, as status shows it. */
export interface VariantView {
  readonly variantName: string;
  /** The variant's part in the rollout in progress; absent when no rollout is. */
  readonly role?: 'blue' | 'green' | 'other';
  readonly currentWeight?: number;
  readonly desiredWeight?: number;
  /** Share of the traffic under the current weights, in percent (one decimal). */
  readonly trafficPercent?: number;
  readonly currentInstanceCount?: number;
  readonly desiredInstanceCount?: number;
  /** From the endpoint config (`serverless` for a serverless variant), else the rollout's plan. */
  readonly instanceType?: string;
  /** SageMaker's variant statuses (Creating, Updating, ActivatingTraffic, Baking, Deleting); empty when steady. */
  readonly statuses: readonly string[];
}

export interface EndpointView {
  readonly endpointName: string;
  /** False when SageMaker has no such endpoint (a first deployment before it is created). */
  readonly exists: boolean;
  readonly status?: string;
  readonly configName?: string;
  readonly failureReason?: string;
  readonly variants: readonly VariantView[];
  /** An update in progress (UpdateEndpoint): the config and variants it deploys. */
  readonly pending?: { readonly configName?: string; readonly status?: string; readonly variants: readonly VariantView[] };
  /** Why instance types could not be read from the endpoint config. */
  readonly note?: string;
}

export interface ExecutionView {
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE; NOT_FOUND when Step Functions does not know it. */
  readonly status: string;
  readonly startedAt?: string;
  readonly stoppedAt?: string;
  /** The state last entered (RUNNING only). */
  readonly state?: string;
  readonly stateEnteredAt?: string;
}

/** A verdict so far: validation's, or an operator's approval decision. */
export interface RolloutVerdict {
  readonly kind: 'validation' | 'approval';
  readonly at: string;
  /** PASS, FAIL or INCONCLUSIVE (validation); APPROVED or REJECTED (approval). */
  readonly verdict: string;
  readonly by?: string;
  readonly reason?: string;
  readonly gates?: readonly { readonly gate: string; readonly verdict: string; readonly reason?: string }[];
}

export interface AuditView {
  readonly verdicts: readonly RolloutVerdict[];
  /** The latest STATUS_LAST_EVENTS events, oldest first. */
  readonly lastEvents: readonly { readonly at: string; readonly type: string; readonly message: string }[];
  readonly eventCount: number;
}

export interface RolloutStatus {
  readonly endpointName: string;
  readonly deploymentId: string;
  readonly executionArn: string;
  readonly modelPackageArn: string;
  readonly modelPackageGroupName: string;
  readonly modelPackageVersion: number;
  readonly lockedAt: string;
  readonly lockExpiresAt: string;
  /** The lock's time is up: another rollout may take the endpoint (DynamoDB's TTL deletes the item later). */
  readonly lockExpired: boolean;
  /** The rollout's alarms are armed: an alarm or `rollback` can roll it back. */
  readonly alarmsArmed: boolean;
  readonly execution: ExecutionView;
  /** The step waiting on the alarms. */
  readonly watch?: WatchRegistration;
  readonly rollbackRequest?: RollbackRequest;
  readonly endpoint: EndpointView;
  /** Absent when no history table was named. */
  readonly audit?: AuditView;
}

/** What `status --json` prints. */
export interface StatusReport {
  readonly table: string;
  readonly historyTable?: string;
  /** How to add the audit trail's part, when no history table was named. */
  readonly auditHint?: string;
  readonly rollouts: readonly RolloutStatus[];
  /** With --endpoint and no rollout in progress: the endpoint as it is. */
  readonly endpoint?: EndpointView;
}

interface StatusDeps {
  readonly stepFunctions: SFNClient;
  readonly dynamoDb: DynamoDBClient;
  readonly sageMaker: SageMakerClient;
  readonly table: NamedTable;
  readonly history?: NamedTable;
  readonly region?: string;
  readonly now: Date;
}

async function status(options: StatusOptions, context: CliContext): Promise<void> {
  const table = activeRolloutsTable(tableName(options.table));
  const historyName = historyTableName(options['history-table']);
  const stepFunctions = context.aws.stepFunctions(options.region);
  const { dynamoDb, sageMaker } = clientsBeside(stepFunctions);
  const region = options.region ?? (await stepFunctions.config.region().catch(() => undefined));
  const deps: StatusDeps = {
    stepFunctions,
    dynamoDb,
    sageMaker,
    table,
    ...(historyName ? { history: rolloutHistoryTable(historyName) } : {}),
    ...(region ? { region } : {}),
    now: context.now(),
  };

  const endpointName = options.endpoint;
  const locks =
    endpointName !== undefined
      ? [await tableCall(table, 'dynamodb:GetItem', region, () => getEndpointLock(dynamoDb, table.name, endpointName))].filter(
          (lock): lock is EndpointLock => lock !== undefined,
        )
      : await tableCall(table, 'dynamodb:Scan', region, () => listEndpointLocks(dynamoDb, table.name));

  // One endpoint after another: a handful of rollouts at most, and the calls stay within AWS's read rates.
  const rollouts: RolloutStatus[] = [];
  for (const lock of locks) rollouts.push(await rolloutStatus(lock, deps));

  let endpoint: EndpointView | undefined;
  if (rollouts.length === 0 && endpointName !== undefined) {
    endpoint = await endpointView(sageMaker, endpointName, undefined, region);
    if (!endpoint.exists) {
      throw new OperationError(
        `no rollout in progress on endpoint ${endpointName}, and SageMaker has no endpoint ${endpointName}${region ? ` in ${region}` : ''} ` +
          '(check --endpoint and --region)',
      );
    }
  }

  const report: StatusReport = {
    table: table.name,
    ...(deps.history ? { historyTable: deps.history.name } : { auditHint: HISTORY_TABLE_HINT }),
    rollouts,
    ...(endpoint ? { endpoint } : {}),
  };
  if (options.json) {
    context.out(JSON.stringify(report, null, 2));
    return;
  }
  for (const line of statusLines(report, endpointName, deps.now)) context.out(line);
}

async function rolloutStatus(lock: EndpointLock, deps: StatusDeps): Promise<RolloutStatus> {
  const { region, table, history } = deps;
  const execution = await executionView(deps.stepFunctions, lock.executionArn, region);
  // The lock carries the watch and the rollback request only once the alarms are armed (the `rollout` attribute).
  const active = lock.armed
    ? await tableCall(table, 'dynamodb:GetItem', region, () => getActiveRollout(deps.dynamoDb, table.name, lock.endpointName))
    : undefined;
  const ours = active?.deploymentId === lock.deploymentId ? active : undefined;
  const endpoint = await endpointView(deps.sageMaker, lock.endpointName, lock.plan, region);
  const audit = history
    ? auditView(await tableCall(history, 'dynamodb:Query', region, () => readRolloutAudit(deps.dynamoDb, history.name, lock.endpointName, lock.deploymentId)).then((a) => a.events))
    : undefined;
  return {
    endpointName: lock.endpointName,
    deploymentId: lock.deploymentId,
    executionArn: lock.executionArn,
    modelPackageArn: lock.modelPackageArn,
    modelPackageGroupName: lock.plan.modelPackage.groupName,
    modelPackageVersion: lock.plan.modelPackage.version,
    lockedAt: lock.lockedAt,
    lockExpiresAt: new Date(lock.expiresAt * 1000).toISOString(),
    lockExpired: lock.expiresAt * 1000 < deps.now.getTime(),
    alarmsArmed: lock.armed,
    execution,
    ...(ours?.watch ? { watch: ours.watch } : {}),
    ...(ours?.rollbackRequest ? { rollbackRequest: ours.rollbackRequest } : {}),
    endpoint,
    ...(audit ? { audit } : {}),
  };
}

/** The execution's status and, while it runs, the state it last entered (GetExecutionHistory, newest first, one page). */
async function executionView(stepFunctions: SFNClient, executionArn: string, region: string | undefined): Promise<ExecutionView> {
  let described;
  try {
    described = await stepFunctions.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    // A lock can outlive its execution's record (90 days), or name one in another region: say so, do not fail.
    if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return { status: 'NOT_FOUND' };
    throw new OperationError(explainAwsError(error, { action: 'states:DescribeExecution', executionArn, region }));
  }
  const view: ExecutionView = {
    status: described.status ?? 'UNKNOWN',
    ...(described.startDate ? { startedAt: described.startDate.toISOString() } : {}),
    ...(described.stopDate ? { stoppedAt: described.stopDate.toISOString() } : {}),
  };
  if (described.status !== 'RUNNING') return view;
  const page = await awsCall({ action: 'states:GetExecutionHistory', executionArn, ...(region ? { region } : {}) }, () =>
    stepFunctions.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: STATE_PAGE_SIZE, includeExecutionData: false })),
  );
  const entered = (page.events ?? []).find((event) => event.stateEnteredEventDetails !== undefined);
  if (!entered?.stateEnteredEventDetails?.name) return view;
  return { ...view, state: entered.stateEnteredEventDetails.name, ...(entered.timestamp ? { stateEnteredAt: entered.timestamp.toISOString() } : {}) };
}

/** The endpoint's variants; instance types from its config (DescribeEndpoint does not give them), else the plan. */
export async function endpointView(sageMaker: SageMakerClient, endpointName: string, plan: RolloutPlan | undefined, region: string | undefined): Promise<EndpointView> {
  const described = await sageMakerCall('sagemaker:DescribeEndpoint', `endpoint ${endpointName}`, region, () => describeEndpointIfExists(sageMaker, endpointName));
  if (!described) return { endpointName, exists: false, variants: [] };

  const instanceTypes = new Map<string, string>();
  if (plan?.blue?.instanceType) instanceTypes.set(plan.blue.variantName, plan.blue.instanceType);
  if (plan) instanceTypes.set(plan.green.variantName, plan.green.instanceType);
  let note: string | undefined;
  const configName = described.EndpointConfigName;
  if (configName) {
    // Only the instance types come from here: a config that cannot be read is a note, not a failed status.
    try {
      const config = await describeEndpointConfigIfExists(sageMaker, configName);
      if (!config) note = `endpoint config ${configName} no longer exists: instance types are the rollout plan's`;
      for (const variant of config?.ProductionVariants ?? []) {
        const type = variant.InstanceType ?? (variant.ServerlessConfig ? 'serverless' : undefined);
        if (variant.VariantName && type) instanceTypes.set(variant.VariantName, type);
      }
    } catch (error) {
      note = `instance types are the rollout plan's: endpoint config ${configName} could not be read (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})`;
    }
  }

  const roleOf = (name: string): VariantView['role'] =>
    plan === undefined ? undefined : name === plan.green.variantName ? 'green' : name === plan.blue?.variantName ? 'blue' : 'other';
  const variants = variantViews(described.ProductionVariants ?? [], roleOf, (name) => instanceTypes.get(name));
  const pending = described.PendingDeploymentSummary;
  return {
    endpointName,
    exists: true,
    ...(described.EndpointStatus ? { status: described.EndpointStatus } : {}),
    ...(configName ? { configName } : {}),
    ...(described.FailureReason ? { failureReason: described.FailureReason } : {}),
    variants,
    ...(pending
      ? {
          pending: {
            ...(pending.EndpointConfigName ? { configName: pending.EndpointConfigName } : {}),
            ...(pendingStatus(described) ? { status: pendingStatus(described) } : {}),
            variants: variantViews(pending.ProductionVariants ?? [], roleOf, (name) => pending.ProductionVariants?.find((v) => v.VariantName === name)?.InstanceType ?? instanceTypes.get(name)),
          },
        }
      : {}),
    ...(note ? { note } : {}),
  };
}

function pendingStatus(endpoint: DescribeEndpointOutput): string | undefined {
  const statuses = (endpoint.PendingDeploymentSummary?.ProductionVariants ?? []).flatMap((v) => (v.VariantStatus ?? []).map((s) => s.Status));
  return statuses.length > 0 ? [...new Set(statuses)].join(', ') : undefined;
}

function variantViews(
  variants: readonly (ProductionVariantSummary | PendingProductionVariantSummary)[],
  roleOf: (name: string) => VariantView['role'],
  instanceTypeOf: (name: string) => string | undefined,
): VariantView[] {
  // SageMaker sends each variant weight / (sum of weights) of the traffic.
  const total = variants.reduce((sum, v) => sum + (v.CurrentWeight ?? 0), 0);
  return variants.map((variant) => {
    const name = variant.VariantName ?? '?';
    const role = roleOf(name);
    const instanceType = instanceTypeOf(name);
    return {
      variantName: name,
      ...(role ? { role } : {}),
      ...(variant.CurrentWeight !== undefined ? { currentWeight: variant.CurrentWeight } : {}),
      ...(variant.DesiredWeight !== undefined ? { desiredWeight: variant.DesiredWeight } : {}),
      ...(variant.CurrentWeight !== undefined && total > 0 ? { trafficPercent: Math.round((variant.CurrentWeight / total) * 1000) / 10 } : {}),
      ...(variant.CurrentInstanceCount !== undefined ? { currentInstanceCount: variant.CurrentInstanceCount } : {}),
      ...(variant.DesiredInstanceCount !== undefined ? { desiredInstanceCount: variant.DesiredInstanceCount } : {}),
      ...(instanceType ? { instanceType } : {}),
      statuses: (variant.VariantStatus ?? []).flatMap((s) => (s.Status ? [s.Status] : [])),
    };
  });
}

/** A SageMaker read in plain words: a missing permission names the action and the resource. */
async function sageMakerCall<T>(action: string, resource: string, region: string | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'AccessDeniedException' || name === 'AccessDenied') {
      const message = error instanceof Error ? error.message : String(error);
      throw new OperationError(`permission missing: your AWS identity may not call ${action} on ${resource} (AWS said: ${message}). Ask for ${action} on it`);
    }
    throw new OperationError(explainAwsError(error, { action, executionArn: resource, region }));
  }
}

/** The verdicts so far and the last events of the rollout's audit trail. */
export function auditView(events: readonly LifecycleDetail[]): AuditView {
  const verdicts = events.flatMap((event): RolloutVerdict[] => {
    if (event.type === 'ValidationVerdict') {
      return [
        {
          kind: 'validation',
          at: event.at,
          verdict: event.verdict,
          gates: event.gates.map((gate) => ({ gate: gate.gate, verdict: gate.verdict, ...(gate.reason ? { reason: gate.reason } : {}) })),
        },
      ];
    }
    if (event.type === 'ApprovalDecided') {
      return [{ kind: 'approval', at: event.at, verdict: event.decision, by: event.by, ...(event.reason ? { reason: event.reason } : {}) }];
    }
    return [];
  });
  return {
    verdicts,
    lastEvents: events.slice(-STATUS_LAST_EVENTS).map((event) => ({ at: event.at, type: event.type, message: event.message })),
    eventCount: events.length,
  };
}

function statusLines(report: StatusReport, endpointName: string | undefined, now: Date): string[] {
  const lines: string[] = [];
  if (report.rollouts.length === 0) {
    if (endpointName === undefined) {
      lines.push(`No rollout in progress: the active-rollouts table ${report.table} holds no endpoint lock.`);
    } else {
      lines.push(`No rollout in progress on endpoint ${endpointName}.`);
      if (report.endpoint) lines.push(...endpointLines(report.endpoint));
    }
    return lines;
  }
  if (report.rollouts.length > 1) lines.push(`${report.rollouts.length} rollouts in progress:`, '');
  report.rollouts.forEach((rollout, index) => {
    if (index > 0) lines.push('');
    lines.push(...rolloutLines(rollout, now));
  });
  if (report.auditHint) lines.push('', `Verdicts and events are not shown: ${report.auditHint}`);
  return lines;
}

function rolloutLines(rollout: RolloutStatus, now: Date): string[] {
  const rows: Array<[string, string]> = [
    ['model package', `${modelLabel(rollout.modelPackageGroupName, rollout.modelPackageVersion)} (${rollout.modelPackageArn})`],
    ['execution', rollout.executionArn],
    ['status', executionLine(rollout, now)],
    ['endpoint lock', `taken ${isoSeconds(rollout.lockedAt)}, ${rollout.lockExpired ? 'EXPIRED' : 'expires'} ${isoSeconds(rollout.lockExpiresAt)}`],
    ['alarms', rollout.alarmsArmed ? `armed${rollout.watch ? `; watching step ${rollout.watch.step} since ${isoSeconds(rollout.watch.since)}` : ''}` : 'not armed yet (no traffic shifted to green)'],
    ['rollback', rollbackLine(rollout.rollbackRequest)],
  ];
  const lines = [`Rollout on endpoint ${rollout.endpointName} (deployment ${rollout.deploymentId}):`, ...labelled(rows), ...endpointLines(rollout.endpoint)];
  if (rollout.audit) lines.push(...auditLines(rollout.audit));
  return lines;
}

function executionLine(rollout: RolloutStatus, now: Date): string {
  const { execution } = rollout;
  if (execution.status === 'NOT_FOUND') {
    return 'Step Functions does not know the execution (ended and expired, or in another region): the lock is stale';
  }
  if (execution.status !== 'RUNNING') {
    return (
      `${execution.status}${execution.stoppedAt ? ` at ${isoSeconds(execution.stoppedAt)}` : ''}: the rollout has ended; the reconciler ` +
      `releases its lock (or the lock expires at ${isoSeconds(rollout.lockExpiresAt)})`
    );
  }
  const since = execution.startedAt ? ` since ${isoSeconds(execution.startedAt)}` : '';
  if (!execution.state) return `RUNNING${since}`;
  const inState = execution.stateEnteredAt ? ` for ${formatDuration((now.getTime() - Date.parse(execution.stateEnteredAt)) / 1000)}` : '';
  return `RUNNING${since}, in state "${execution.state}"${inState}`;
}

function rollbackLine(request: RollbackRequest | undefined): string {
  if (!request) return 'none requested';
  const who = `${request.kind === 'ALARM' ? 'alarm' : 'operator'} ${request.by}`;
  const done = request.outcome ? `: ${request.outcome}${request.message ? ` (${request.message})` : ''}` : ': pending';
  return `requested by ${who} at ${isoSeconds(request.requestedAt)} (${request.reason})${done}`;
}

function endpointLines(endpoint: EndpointView): string[] {
  if (!endpoint.exists) return [`Endpoint ${endpoint.endpointName}: not created yet (SageMaker has no such endpoint)`];
  const lines = [
    `Endpoint ${endpoint.endpointName}: ${endpoint.status ?? '?'} on config ${endpoint.configName ?? '?'}${endpoint.failureReason ? ` (FailureReason: ${endpoint.failureReason})` : ''}`,
  ];
  const withRole = endpoint.variants.some((v) => v.role !== undefined) || (endpoint.pending?.variants ?? []).some((v) => v.role !== undefined);
  const header = ['VARIANT', ...(withRole ? ['ROLE'] : []), 'WEIGHT', 'DESIRED', 'TRAFFIC', 'INSTANCES', 'TYPE', 'STATUS'];
  const row = (v: VariantView) => [
    v.variantName,
    ...(withRole ? [v.role ?? '-'] : []),
    formatWeight(v.currentWeight),
    formatWeight(v.desiredWeight),
    v.trafficPercent !== undefined ? `${v.trafficPercent}%` : '-',
    instancesLabel(v),
    v.instanceType ?? '?',
    v.statuses.length > 0 ? v.statuses.join(', ') : '-',
  ];
  lines.push(...columns([header, ...endpoint.variants.map(row)]).map((line) => `  ${line}`));
  if (endpoint.pending) {
    lines.push(`  update in progress to config ${endpoint.pending.configName ?? '?'}${endpoint.pending.status ? ` (${endpoint.pending.status})` : ''}:`);
    lines.push(...columns([header, ...endpoint.pending.variants.map(row)]).map((line) => `    ${line}`));
  }
  if (endpoint.note) lines.push(`  Note: ${endpoint.note}`);
  return lines;
}

function auditLines(audit: AuditView): string[] {
  const lines = [audit.verdicts.length > 0 ? 'Verdicts:' : 'Verdicts: none yet'];
  for (const verdict of audit.verdicts) {
    const gates = verdict.gates && verdict.gates.length > 0 ? ` (${verdict.gates.map((gate) => `${gate.gate} ${gate.verdict}`).join(', ')})` : '';
    lines.push(
      `  ${isoSeconds(verdict.at)}  ${verdict.kind} ${verdict.verdict}${gates}${verdict.by ? ` by ${verdict.by}` : ''}${verdict.reason ? `: ${verdict.reason}` : ''}`,
    );
  }
  if (audit.eventCount === 0) {
    lines.push('Events: none recorded yet');
  } else {
    lines.push(`Last events (${audit.lastEvents.length} of ${audit.eventCount}):`, ...audit.lastEvents.map((event) => `  ${isoSeconds(event.at)}  ${event.message}`));
  }
  return lines;
}

/** A weight at four significant digits: SageMaker keeps 32-bit floats, the rest is noise. */
function formatWeight(weight: number | undefined): string {
  return weight === undefined ? '-' : String(Number(weight.toPrecision(4)));
}

function instancesLabel(variant: VariantView): string {
  const { currentInstanceCount: current, desiredInstanceCount: desired } = variant;
  if (current === undefined) return desired !== undefined ? `→ ${desired}` : '-';
  return desired !== undefined && desired !== current ? `${current} → ${desired}` : String(current);
}
