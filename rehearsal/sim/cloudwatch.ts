/**
 * CloudWatch alarms, in memory: PutMetricAlarm, PutCompositeAlarm, DescribeAlarms, DeleteAlarms,
 * SetAlarmState and alarm tags, with CloudWatch's validation and error names, and alarms that evaluate the
 * SageMaker endpoint metrics the rehearsal's production traffic publishes (namespace AWS/SageMaker, one
 * datapoint per variant per minute). Every alarm state change is announced as the EventBridge event
 * CloudWatch sends ("CloudWatch Alarm State Change").
 *
 * Evaluation follows CloudWatch's documented rules ("M out of N", how missing data is treated); where the
 * documentation leaves room, the simplification is said where it is made (see evaluateMetricAlarm).
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import {
  alarmReferences,
  AlarmRuleSyntaxError,
  evaluateAlarmRule,
  parseAlarmRule,
  ruleElementCount,
  satisfiedStateFunctions,
  type AlarmRuleNode,
} from './alarm-rule';
import { nowMs } from './clock';
import {
  deleteAlarmsInput,
  describeAlarmsInput,
  listTagsForResourceInput,
  putCompositeAlarmInput,
  putMetricAlarmInput,
  setAlarmStateInput,
  tagResourceInput,
  untagResourceInput,
  type AlarmStateValue,
  type ComparisonOperator,
  type ParsedDimension,
  type ParsedTag,
  type Statistic,
} from './cloudwatch-schemas';
import { AwsServiceError } from './errors';
import { parseAwsInput } from './validation';

export interface CloudWatchSimulationOptions {
  readonly region: string;
  readonly accountId: string;
}

/** One period (60 s) of production traffic to one variant. */
export interface VariantTrafficSample {
  readonly endpointName: string;
  readonly variantName: string;
  /** EndpointConfigName the fleet was deployed with (CloudWatch also publishes with it; optional dimension). */
  readonly endpointConfigName?: string;
  readonly invocations: number;
  readonly invocation5xxErrors: number;
  readonly invocation4xxErrors: number;
  readonly modelErrors: number;
  /** Per-request ModelLatency in MICROSECONDS (may be a representative sample of the invocations). */
  readonly modelLatenciesUs: readonly number[];
}

/** Receives a "CloudWatch Alarm State Change" event. Listeners must not throw. */
export type AlarmStateChangeListener = (event: Record<string, unknown>) => void;

/** A summary of one alarm, for reports and tests. */
export interface AlarmSnapshot {
  readonly name: string;
  readonly type: 'metric' | 'composite';
  readonly state: string;
  readonly reason: string;
  readonly tags: { Key: string; Value: string }[];
}

export const SAGEMAKER_NAMESPACE = 'AWS/SageMaker';
export const ALARM_STATE_CHANGE_DETAIL_TYPE = 'CloudWatch Alarm State Change';
/** SageMaker publishes endpoint invocation metrics once a minute. */
const METRIC_RESOLUTION_MS = 60_000;
/** The unit SageMaker publishes each endpoint invocation metric in (an alarm with another Unit sees no data). */
const SAGEMAKER_METRIC_UNITS: Readonly<Record<string, string>> = {
  Invocations: 'None',
  Invocation5XXErrors: 'None',
  Invocation4XXErrors: 'None',
  InvocationModelErrors: 'None',
  ModelLatency: 'Microseconds',
};
/** Alarm periods and evaluation windows never exceed a day; metric data older than two is dropped. */
const RETENTION_MS = 2 * 86_400_000;
const MAX_TAGS = 50;
const DEFAULT_MAX_RECORDS = 50;
const INITIAL_STATE_REASON = 'Unchecked: Initial alarm creation';
const TREAT_MISSING_DATA_OPTIONS = ['missing', 'ignore', 'breaching', 'notBreaching'] as const;
type TreatMissingData = (typeof TREAT_MISSING_DATA_OPTIONS)[number];
/** Percentile ExtendedStatistics (p0 to p100): the only extended statistics the simulation evaluates. */
const PERCENTILE_PATTERN = /^p(\d{1,2}(\.\d{1,10})?|100(\.0{1,10})?)$/;
/** The other ExtendedStatistic forms CloudWatch accepts (trimmed means, IQM, ranges...). */
const OTHER_EXTENDED_STATISTIC_PATTERN = /^(tm|tc|ts|wm)\d{1,2}(\.\d+)?$|^IQM$|^(PR|TM|TC|TS|WM)\(.+\)$/;
const ANOMALY_OPERATORS: ReadonlySet<string> = new Set([
  'LessThanLowerOrGreaterThanUpperThreshold',
  'LessThanLowerThreshold',
  'GreaterThanUpperThreshold',
]);

/** A metric's values in one minute (or one alarm period): each value with the number of requests it stands for. */
type WeightedValues = readonly (readonly [value: number, weight: number])[];

interface AlarmState {
  value: AlarmStateValue;
  reason: string;
  reasonData?: string;
  /** Last state update (a transition, or SetAlarmState to the same value). */
  updatedMs: number;
  /** Last change of `value`. */
  transitionedMs: number;
}

interface AlarmCommon {
  readonly name: string;
  readonly arn: string;
  description?: string;
  actionsEnabled: boolean;
  okActions: string[];
  alarmActions: string[];
  insufficientDataActions: string[];
  configurationUpdatedMs: number;
  state: AlarmState;
  tags: ParsedTag[];
}

interface MetricAlarmConfig {
  readonly namespace: string;
  readonly metricName: string;
  readonly statistic?: Statistic;
  readonly extendedStatistic?: string;
  readonly dimensions: readonly ParsedDimension[];
  readonly period: number;
  readonly unit?: string;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm?: number;
  readonly threshold: number;
  readonly comparisonOperator: ComparisonOperator;
  readonly treatMissingData?: string;
  readonly evaluateLowSampleCountPercentile?: string;
}

interface StoredMetricAlarm extends AlarmCommon {
  readonly type: 'metric';
  config: MetricAlarmConfig;
}

interface CompositeAlarmConfig {
  readonly rule: string;
  readonly tree: AlarmRuleNode;
  /** Each reference of the rule (name or ARN, as written) -> the alarm name it designates. */
  readonly children: ReadonlyMap<string, string>;
  readonly actionsSuppressor?: string;
  readonly actionsSuppressorWaitPeriod?: number;
  readonly actionsSuppressorExtensionPeriod?: number;
}

interface StoredCompositeAlarm extends AlarmCommon {
  readonly type: 'composite';
  config: CompositeAlarmConfig;
}

type StoredAlarm = StoredMetricAlarm | StoredCompositeAlarm;

/** What one evaluation of a metric alarm concludes. */
type Verdict = { readonly keep: true } | { readonly keep?: false; readonly value: AlarmStateValue; readonly reason: string; readonly reasonData: string };

/** One alarm period of the evaluation range, most recent first; `value` absent when the period has no data. */
interface EvaluatedPeriod {
  readonly startMs: number;
  readonly value?: number;
  readonly sampleCount?: number;
}

export class CloudWatchSimulation {
  private readonly region: string;
  private readonly accountId: string;
  /** Alarms by name (CloudWatch alarm names are case-sensitive). */
  private readonly alarms = new Map<string, StoredAlarm>();
  /** Metric series by key (namespace, name, dimension set) -> minute start (epoch ms) -> values. */
  private readonly series = new Map<string, Map<number, WeightedValues>>();
  private readonly listeners: AlarmStateChangeListener[] = [];
  private eventCount = 0;

  /** The operations this simulation implements, by API name. */
  private readonly operations: Readonly<Record<string, (input: unknown) => object>> = {
    PutMetricAlarm: (input) => this.putMetricAlarm(input),
    PutCompositeAlarm: (input) => this.putCompositeAlarm(input),
    DescribeAlarms: (input) => this.describeAlarms(input),
    DeleteAlarms: (input) => this.deleteAlarms(input),
    SetAlarmState: (input) => this.setAlarmStateOperation(input),
    ListTagsForResource: (input) => this.listTagsForResource(input),
    TagResource: (input) => this.tagResource(input),
    UntagResource: (input) => this.untagResource(input),
  };

  constructor(options: CloudWatchSimulationOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
  }

  /** Operation names served (JSON protocol name, e.g. 'PutMetricAlarm'). */
  supports(operation: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.operations, operation);
  }

  /**
   * Executes one API call on its decoded JSON input and returns the JSON output (timestamps in epoch
   * seconds, as the awsJson1_0 protocol encodes them). Throws AwsServiceError exactly as CloudWatch would.
   */
  execute(operation: string, input: unknown): object {
    const run = this.supports(operation) ? this.operations[operation] : undefined;
    if (!run) {
      throw new AwsServiceError('UnknownOperationException', `The requested operation ${operation} is not recognized by the service.`);
    }
    return run(input);
  }

  /** Receives every alarm state change as the EventBridge event AWS sends ("CloudWatch Alarm State Change"). */
  onAlarmStateChange(listener: AlarmStateChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Publishes one period of datapoints (the minute ending at virtual time `atMs`) and evaluates every
   * alarm. A variant with no invocations publishes nothing for that minute: its metrics have missing data.
   */
  publish(samples: readonly VariantTrafficSample[], atMs: number): void {
    const minuteStartMs = Math.floor((atMs - METRIC_RESOLUTION_MS) / METRIC_RESOLUTION_MS) * METRIC_RESOLUTION_MS;
    for (const sample of samples) {
      validateSample(sample);
      if (sample.invocations === 0) continue;
      const dimensionSets: ParsedDimension[][] = [
        [
          { Name: 'EndpointName', Value: sample.endpointName },
          { Name: 'VariantName', Value: sample.variantName },
        ],
      ];
      // Fleets deployed by an update also publish under a dimension set that adds EndpointConfigName.
      if (sample.endpointConfigName !== undefined) {
        dimensionSets.push([...dimensionSets[0]!, { Name: 'EndpointConfigName', Value: sample.endpointConfigName }]);
      }
      for (const [metricName, values] of Object.entries(metricValuesOf(sample))) {
        if (values.length === 0) continue;
        for (const dimensions of dimensionSets) this.addDatapoint(seriesKey(SAGEMAKER_NAMESPACE, metricName, dimensions), minuteStartMs, values);
      }
    }
    this.dropDataBefore(atMs - RETENTION_MS);
    for (const alarm of this.sortedAlarms()) {
      if (alarm.type === 'metric') this.applyVerdict(alarm, this.evaluateMetricAlarm(alarm, atMs), atMs);
    }
  }

  /** What SetAlarmState does (the rehearsal injects alarm states by name). Throws ResourceNotFound if unknown. */
  setAlarmState(alarmName: string, stateValue: AlarmStateValue, reason: string): void {
    this.setState(alarmName, stateValue, reason, undefined);
  }

  /** Alarm names, sorted. */
  alarmNames(): string[] {
    return [...this.alarms.keys()].sort();
  }

  /** A snapshot (name, type metric|composite, state, reason, tags) for reports and tests. */
  alarmSnapshot(name: string): AlarmSnapshot | undefined {
    const alarm = this.alarms.get(name);
    if (!alarm) return undefined;
    return { name: alarm.name, type: alarm.type, state: alarm.state.value, reason: alarm.state.reason, tags: alarm.tags.map((tag) => ({ ...tag })) };
  }

  // ---------------------------------------------------------------- PutMetricAlarm

  private putMetricAlarm(rawInput: unknown): object {
    const input = parseCloudWatchInput(putMetricAlarmInput, rawInput);
    checkAlarmName(input.AlarmName);
    if (input.Metrics !== undefined) throw notSimulated('Metrics (alarms on metric math expressions and Metrics Insights queries)');
    if (input.ThresholdMetricId !== undefined) throw notSimulated('ThresholdMetricId (anomaly detection alarms)');
    if (ANOMALY_OPERATORS.has(input.ComparisonOperator)) {
      throw validationError(`ComparisonOperator ${input.ComparisonOperator} is only valid for anomaly detection alarms, which need ThresholdMetricId.`);
    }
    if (input.MetricName === undefined) throw validationError('Either MetricName or Metrics must be specified.');
    if (input.Namespace === undefined) throw validationError('Namespace must be specified for an alarm on a single metric (MetricName).');
    if (input.Statistic !== undefined && input.ExtendedStatistic !== undefined) {
      throw new AwsServiceError('InvalidParameterCombination', 'Statistic and ExtendedStatistic cannot both be specified: give exactly one.');
    }
    if (input.Statistic === undefined && input.ExtendedStatistic === undefined) {
      throw new AwsServiceError('MissingParameter', 'Either Statistic or ExtendedStatistic must be specified for an alarm on a single metric (MetricName).');
    }
    if (input.ExtendedStatistic !== undefined && !PERCENTILE_PATTERN.test(input.ExtendedStatistic)) {
      if (OTHER_EXTENDED_STATISTIC_PATTERN.test(input.ExtendedStatistic)) {
        throw notSimulated(`ExtendedStatistic ${input.ExtendedStatistic} (only percentiles p0 to p100 are evaluated)`);
      }
      throw new AwsServiceError('InvalidParameterValue', `The value ${input.ExtendedStatistic} for parameter ExtendedStatistic is not supported.`);
    }
    if (input.Period === undefined) throw validationError('Period must be specified for an alarm on a single metric (MetricName).');
    if (!(input.Period === 10 || input.Period === 30 || input.Period % 60 === 0)) throw validationError('Period must be 10, 30 or a multiple of 60');
    if (input.Period * input.EvaluationPeriods > 86_400) {
      throw validationError('Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)');
    }
    if (input.DatapointsToAlarm !== undefined && input.DatapointsToAlarm > input.EvaluationPeriods) {
      throw validationError(`DatapointsToAlarm (${input.DatapointsToAlarm}) must be less than or equal to EvaluationPeriods (${input.EvaluationPeriods}).`);
    }
    if (input.Threshold === undefined) throw validationError('Threshold must be specified for an alarm on a static threshold.');
    if (input.TreatMissingData !== undefined && !(TREAT_MISSING_DATA_OPTIONS as readonly string[]).includes(input.TreatMissingData)) {
      throw validationError(
        `Option ${input.TreatMissingData} is not supported. Supported options for parameter TreatMissingData are missing, ignore, breaching and notBreaching.`,
      );
    }
    const lowSample = input.EvaluateLowSampleCountPercentile;
    if (lowSample !== undefined && lowSample !== 'evaluate' && lowSample !== 'ignore') {
      throw validationError(`Option ${lowSample} is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore.`);
    }
    const dimensionNames = (input.Dimensions ?? []).map((dimension) => dimension.Name);
    const repeated = dimensionNames.find((name, index) => dimensionNames.indexOf(name) !== index);
    if (repeated !== undefined) throw new AwsServiceError('InvalidParameterValue', `The dimension ${repeated} is specified more than once in Dimensions.`);

    const existing = this.alarms.get(input.AlarmName);
    if (existing?.type === 'composite') {
      throw validationError(`An alarm named ${input.AlarmName} already exists and is a composite alarm: a metric alarm cannot replace it.`);
    }
    const now = nowMs();
    const config: MetricAlarmConfig = {
      namespace: input.Namespace,
      metricName: input.MetricName,
      ...(input.Statistic !== undefined ? { statistic: input.Statistic } : {}),
      ...(input.ExtendedStatistic !== undefined ? { extendedStatistic: input.ExtendedStatistic } : {}),
      dimensions: (input.Dimensions ?? []).map((dimension) => ({ ...dimension })),
      period: input.Period,
      ...(input.Unit !== undefined ? { unit: input.Unit } : {}),
      evaluationPeriods: input.EvaluationPeriods,
      ...(input.DatapointsToAlarm !== undefined ? { datapointsToAlarm: input.DatapointsToAlarm } : {}),
      threshold: input.Threshold,
      comparisonOperator: input.ComparisonOperator,
      ...(input.TreatMissingData !== undefined ? { treatMissingData: input.TreatMissingData } : {}),
      ...(lowSample !== undefined ? { evaluateLowSampleCountPercentile: lowSample } : {}),
    };
    let alarm: StoredMetricAlarm;
    if (existing) {
      // An update overwrites the configuration and keeps the state; the tags of the request are ignored.
      alarm = existing;
      alarm.config = config;
    } else {
      const tags = checkedTags(input.Tags ?? [], []);
      alarm = {
        type: 'metric',
        name: input.AlarmName,
        arn: this.alarmArn(input.AlarmName),
        config,
        actionsEnabled: true,
        okActions: [],
        alarmActions: [],
        insufficientDataActions: [],
        configurationUpdatedMs: now,
        state: { value: 'INSUFFICIENT_DATA', reason: INITIAL_STATE_REASON, updatedMs: now, transitionedMs: now },
        tags,
      };
      this.alarms.set(alarm.name, alarm);
    }
    applyCommonSettings(alarm, input, now);
    // A new alarm is evaluated right away, on the data CloudWatch already has: the creation itself
    // (INSUFFICIENT_DATA) emits no event, a transition found by this evaluation does. An updated alarm keeps
    // its state ("its state is left unchanged") until its next evaluation, at the next publish.
    if (!existing) this.applyVerdict(alarm, this.evaluateMetricAlarm(alarm, now), now);
    return {};
  }

  // ---------------------------------------------------------------- PutCompositeAlarm

  private putCompositeAlarm(rawInput: unknown): object {
    const input = parseCloudWatchInput(putCompositeAlarmInput, rawInput);
    checkAlarmName(input.AlarmName);
    let tree: AlarmRuleNode;
    try {
      tree = parseAlarmRule(input.AlarmRule);
    } catch (error) {
      if (!(error instanceof AlarmRuleSyntaxError)) throw error;
      throw validationError(`AlarmRule is not valid: ${error.message}.`);
    }
    const references = alarmReferences(tree);
    if (references.length > 100) throw validationError(`AlarmRule names ${references.length} alarms; a composite alarm can have at most 100 child alarms.`);
    if (ruleElementCount(tree) > 500) throw validationError('AlarmRule has more than 500 elements.');
    const children = new Map<string, string>();
    const missing: string[] = [];
    for (const reference of references) {
      const name = this.alarmNameOf(reference);
      if (name === undefined || !this.alarms.has(name)) missing.push(reference);
      else children.set(reference, name);
    }
    if (missing.length > 0) {
      throw validationError(`Could not save the composite alarm as alarms [${missing.join(', ')}] in the alarm rule do not exist`);
    }
    if (input.ActionsSuppressor !== undefined && (input.ActionsSuppressorWaitPeriod === undefined || input.ActionsSuppressorExtensionPeriod === undefined)) {
      throw validationError('ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required when ActionsSuppressor is specified.');
    }
    const existing = this.alarms.get(input.AlarmName);
    if (existing?.type === 'metric') {
      throw validationError(`An alarm named ${input.AlarmName} already exists and is a metric alarm: a composite alarm cannot replace it.`);
    }
    const now = nowMs();
    const config: CompositeAlarmConfig = {
      rule: input.AlarmRule,
      tree,
      children,
      ...(input.ActionsSuppressor !== undefined ? { actionsSuppressor: input.ActionsSuppressor } : {}),
      ...(input.ActionsSuppressorWaitPeriod !== undefined ? { actionsSuppressorWaitPeriod: input.ActionsSuppressorWaitPeriod } : {}),
      ...(input.ActionsSuppressorExtensionPeriod !== undefined ? { actionsSuppressorExtensionPeriod: input.ActionsSuppressorExtensionPeriod } : {}),
    };
    let alarm: StoredCompositeAlarm;
    if (existing) {
      alarm = existing;
      alarm.config = config;
    } else {
      alarm = {
        type: 'composite',
        name: input.AlarmName,
        arn: this.alarmArn(input.AlarmName),
        config,
        actionsEnabled: true,
        okActions: [],
        alarmActions: [],
        insufficientDataActions: [],
        configurationUpdatedMs: now,
        state: { value: 'INSUFFICIENT_DATA', reason: INITIAL_STATE_REASON, updatedMs: now, transitionedMs: now },
        tags: checkedTags(input.Tags ?? [], []),
      };
      this.alarms.set(alarm.name, alarm);
    }
    applyCommonSettings(alarm, input, now);
    // Evaluated at once: after its creation, a composite alarm is never INSUFFICIENT_DATA again.
    this.evaluateComposite(alarm, now, undefined, new Set());
    return {};
  }

  // ---------------------------------------------------------------- DescribeAlarms

  private describeAlarms(rawInput: unknown): object {
    const input = parseCloudWatchInput(describeAlarmsInput, rawInput);
    if (input.AlarmNames !== undefined && input.AlarmNamePrefix !== undefined) {
      throw new AwsServiceError('InvalidParameterCombination', 'AlarmNamePrefix and AlarmNames cannot be specified together.');
    }
    const family = input.ChildrenOfAlarmName ?? input.ParentsOfAlarmName;
    let matched: StoredAlarm[];
    if (family !== undefined) {
      const others = Object.entries(input).filter(([member, value]) => value !== undefined && !['MaxRecords', 'NextToken', 'ChildrenOfAlarmName', 'ParentsOfAlarmName'].includes(member));
      if (others.length > 0 || (input.ChildrenOfAlarmName !== undefined && input.ParentsOfAlarmName !== undefined)) {
        throw new AwsServiceError(
          'InvalidParameterCombination',
          'ChildrenOfAlarmName and ParentsOfAlarmName cannot be combined with each other or with any parameter other than MaxRecords and NextToken.',
        );
      }
      matched = input.ChildrenOfAlarmName !== undefined ? this.childrenOf(input.ChildrenOfAlarmName) : this.parentsOf(input.ParentsOfAlarmName!);
    } else {
      const types = new Set(input.AlarmTypes && input.AlarmTypes.length > 0 ? input.AlarmTypes : ['MetricAlarm']);
      const names = input.AlarmNames ? new Set(input.AlarmNames) : undefined;
      matched = this.sortedAlarms().filter(
        (alarm) =>
          types.has(alarm.type === 'metric' ? 'MetricAlarm' : 'CompositeAlarm') &&
          (names === undefined || names.has(alarm.name)) &&
          (input.AlarmNamePrefix === undefined || alarm.name.startsWith(input.AlarmNamePrefix)) &&
          (input.StateValue === undefined || alarm.state.value === input.StateValue) &&
          (input.ActionPrefix === undefined ||
            [...alarm.alarmActions, ...alarm.okActions, ...alarm.insufficientDataActions].some((action) => action.startsWith(input.ActionPrefix!))),
      );
    }
    const offset = input.NextToken !== undefined ? decodeNextToken(input.NextToken) : 0;
    const page = matched.slice(offset, offset + (input.MaxRecords ?? DEFAULT_MAX_RECORDS));
    const nextOffset = offset + page.length;
    return {
      MetricAlarms: page.filter((alarm): alarm is StoredMetricAlarm => alarm.type === 'metric').map((alarm) => this.describeMetricAlarm(alarm)),
      CompositeAlarms: page.filter((alarm): alarm is StoredCompositeAlarm => alarm.type === 'composite').map((alarm) => this.describeCompositeAlarm(alarm)),
      ...(nextOffset < matched.length ? { NextToken: encodeNextToken(nextOffset) } : {}),
    };
  }

  /** What DescribeAlarms returns for every alarm, metric or composite: identity, actions and state. */
  private describeAlarmCommon(alarm: StoredAlarm): object {
    return {
      AlarmName: alarm.name,
      AlarmArn: alarm.arn,
      ...(alarm.description !== undefined ? { AlarmDescription: alarm.description } : {}),
      AlarmConfigurationUpdatedTimestamp: epochSeconds(alarm.configurationUpdatedMs),
      ActionsEnabled: alarm.actionsEnabled,
      OKActions: [...alarm.okActions],
      AlarmActions: [...alarm.alarmActions],
      InsufficientDataActions: [...alarm.insufficientDataActions],
      StateValue: alarm.state.value,
      StateReason: alarm.state.reason,
      ...(alarm.state.reasonData !== undefined ? { StateReasonData: alarm.state.reasonData } : {}),
      StateUpdatedTimestamp: epochSeconds(alarm.state.updatedMs),
      StateTransitionedTimestamp: epochSeconds(alarm.state.transitionedMs),
    };
  }

  private describeMetricAlarm(alarm: StoredMetricAlarm): object {
    const config = alarm.config;
    return {
      ...this.describeAlarmCommon(alarm),
      MetricName: config.metricName,
      Namespace: config.namespace,
      ...(config.statistic !== undefined ? { Statistic: config.statistic } : {}),
      ...(config.extendedStatistic !== undefined ? { ExtendedStatistic: config.extendedStatistic } : {}),
      Dimensions: config.dimensions.map((dimension) => ({ ...dimension })),
      Period: config.period,
      ...(config.unit !== undefined ? { Unit: config.unit } : {}),
      EvaluationPeriods: config.evaluationPeriods,
      ...(config.datapointsToAlarm !== undefined ? { DatapointsToAlarm: config.datapointsToAlarm } : {}),
      Threshold: config.threshold,
      ComparisonOperator: config.comparisonOperator,
      ...(config.treatMissingData !== undefined ? { TreatMissingData: config.treatMissingData } : {}),
      ...(config.evaluateLowSampleCountPercentile !== undefined ? { EvaluateLowSampleCountPercentile: config.evaluateLowSampleCountPercentile } : {}),
    };
  }

  private describeCompositeAlarm(alarm: StoredCompositeAlarm): object {
    const config = alarm.config;
    return {
      ...this.describeAlarmCommon(alarm),
      AlarmRule: config.rule,
      ...(config.actionsSuppressor !== undefined ? { ActionsSuppressor: config.actionsSuppressor } : {}),
      ...(config.actionsSuppressorWaitPeriod !== undefined ? { ActionsSuppressorWaitPeriod: config.actionsSuppressorWaitPeriod } : {}),
      ...(config.actionsSuppressorExtensionPeriod !== undefined ? { ActionsSuppressorExtensionPeriod: config.actionsSuppressorExtensionPeriod } : {}),
    };
  }

  private childrenOf(name: string): StoredAlarm[] {
    const alarm = this.alarms.get(name);
    if (alarm?.type !== 'composite') return [];
    const names = new Set(alarm.config.children.values());
    return this.sortedAlarms().filter((candidate) => names.has(candidate.name));
  }

  private parentsOf(name: string): StoredAlarm[] {
    return this.sortedAlarms().filter((candidate) => candidate.type === 'composite' && [...candidate.config.children.values()].includes(name) && candidate.name !== name);
  }

  // ---------------------------------------------------------------- DeleteAlarms

  private deleteAlarms(rawInput: unknown): object {
    const input = parseCloudWatchInput(deleteAlarmsInput, rawInput);
    const names = [...new Set(input.AlarmNames)];
    // All or nothing: "If you specify an incorrect alarm name or make any other error in the operation, no
    // alarms are deleted" (DeleteAlarms API reference).
    const missing = names.filter((name) => !this.alarms.has(name));
    if (missing.length > 0) {
      throw resourceNotFound(`The following alarms do not exist: [${missing.join(', ')}]. No alarm was deleted.`);
    }
    const composites = names.filter((name) => this.alarms.get(name)!.type === 'composite');
    if (composites.length > 1) {
      throw validationError(`DeleteAlarms can delete at most one composite alarm per call; this call names ${composites.length}: [${composites.join(', ')}].`);
    }
    const deleted = new Set(names);
    for (const name of names) {
      if (this.parentsOf(name).some((parent) => !deleted.has(parent.name))) {
        throw validationError(`Cannot delete ${name} as there are composite alarm(s) depending on it.`);
      }
    }
    for (const name of names) this.alarms.delete(name);
    return {};
  }

  // ---------------------------------------------------------------- SetAlarmState

  private setAlarmStateOperation(rawInput: unknown): object {
    const input = parseCloudWatchInput(setAlarmStateInput, rawInput);
    if (input.StateReasonData !== undefined) {
      try {
        JSON.parse(input.StateReasonData);
      } catch {
        throw new AwsServiceError('InvalidFormat', 'StateReasonData is not syntactically valid JSON.');
      }
    }
    this.setState(input.AlarmName, input.StateValue, input.StateReason, input.StateReasonData);
    return {};
  }

  private setState(alarmName: string, value: AlarmStateValue, reason: string, reasonData: string | undefined): void {
    const alarm = this.alarms.get(alarmName);
    if (!alarm) throw resourceNotFound(`Alarm ${alarmName} not found`);
    // A metric alarm returns to its evaluated state at its next evaluation (the next publish); a composite
    // alarm only when one of its children changes state or it is updated.
    this.transition(alarm, { value, reason, ...(reasonData !== undefined ? { reasonData } : {}) }, nowMs(), new Set());
  }

  // ---------------------------------------------------------------- tags

  private listTagsForResource(rawInput: unknown): object {
    const input = parseCloudWatchInput(listTagsForResourceInput, rawInput);
    return { Tags: this.taggedAlarm(input.ResourceARN).tags.map((tag) => ({ ...tag })) };
  }

  private tagResource(rawInput: unknown): object {
    const input = parseCloudWatchInput(tagResourceInput, rawInput);
    const alarm = this.taggedAlarm(input.ResourceARN);
    alarm.tags = checkedTags(input.Tags, alarm.tags);
    return {};
  }

  private untagResource(rawInput: unknown): object {
    const input = parseCloudWatchInput(untagResourceInput, rawInput);
    const alarm = this.taggedAlarm(input.ResourceARN);
    const removed = new Set(input.TagKeys);
    alarm.tags = alarm.tags.filter((tag) => !removed.has(tag.Key));
    return {};
  }

  private taggedAlarm(resourceArn: string): StoredAlarm {
    const match = /^arn:aws[a-z-]*:cloudwatch:([^:]*):([^:]*):(alarm|insight-rule)[:/](.+)$/.exec(resourceArn);
    if (!match) throw new AwsServiceError('InvalidParameterValue', `Invalid ARN: ${resourceArn} is not the ARN of a CloudWatch alarm or Contributor Insights rule.`);
    const [, region, account, resourceType, name] = match;
    const alarm = resourceType === 'alarm' && region === this.region && account === this.accountId ? this.alarms.get(name!) : undefined;
    if (!alarm) {
      throw new AwsServiceError('ResourceNotFoundException', `The ${resourceType === 'alarm' ? 'alarm' : 'Contributor Insights rule'} ${name} does not exist.`, {
        httpStatus: 404,
        details: { ResourceType: resourceType, ResourceId: name },
      });
    }
    return alarm;
  }

  // ---------------------------------------------------------------- metric data

  private addDatapoint(key: string, minuteStartMs: number, values: WeightedValues): void {
    let minutes = this.series.get(key);
    if (!minutes) {
      minutes = new Map();
      this.series.set(key, minutes);
    }
    // Two publishes in one minute (an irregular tick) merge into one datapoint, as CloudWatch aggregates them.
    minutes.set(minuteStartMs, [...(minutes.get(minuteStartMs) ?? []), ...values]);
  }

  private dropDataBefore(cutoffMs: number): void {
    for (const minutes of this.series.values()) {
      for (const minute of minutes.keys()) if (minute < cutoffMs) minutes.delete(minute);
    }
  }

  /** The values of one metric series within [startMs, endMs); empty when there is no data. */
  private valuesIn(key: string, startMs: number, endMs: number): WeightedValues {
    const minutes = this.series.get(key);
    if (!minutes) return [];
    const values: (readonly [number, number])[] = [];
    for (let minute = Math.ceil(startMs / METRIC_RESOLUTION_MS) * METRIC_RESOLUTION_MS; minute < endMs; minute += METRIC_RESOLUTION_MS) {
      values.push(...(minutes.get(minute) ?? []));
    }
    return values;
  }

  // ---------------------------------------------------------------- evaluation

  /**
   * Evaluates a metric alarm at `atMs` over its evaluation range: the last 2 x EvaluationPeriods complete
   * periods (CloudWatch retrieves "a higher number of data points than the number specified as Evaluation
   * Periods"; the exact range is not documented, 2N is the simulation's choice). Then, as documented:
   * - at least N periods with data: the N most recent of them decide; ALARM if at least M (DatapointsToAlarm,
   *   default N) breach, else OK; TreatMissingData plays no part;
   * - no data at all: missing -> INSUFFICIENT_DATA, breaching -> ALARM, notBreaching -> OK, ignore -> keep;
   * - some data, fewer than N periods: missing periods are filled per TreatMissingData. breaching: they count
   *   as breaching; notBreaching: as not breaching; missing: only the real datapoints are evaluated, and all
   *   of them (at most M) must breach for ALARM; ignore: OK if none breaches, ALARM if M do, else keep (this
   *   follows the examples table of "Configuring how CloudWatch alarms treat missing data").
   * EvaluateLowSampleCountPercentile 'ignore' keeps the state while a percentile datapoint has fewer than
   * 10 / (1 - percentile) samples.
   */
  private evaluateMetricAlarm(alarm: StoredMetricAlarm, atMs: number): Verdict {
    const config = alarm.config;
    const periodMs = config.period * 1000;
    const n = config.evaluationPeriods;
    const m = config.datapointsToAlarm ?? n;
    const key = seriesKey(config.namespace, config.metricName, config.dimensions);
    const unitMatches = config.unit === undefined || SAGEMAKER_METRIC_UNITS[config.metricName] === undefined || SAGEMAKER_METRIC_UNITS[config.metricName] === config.unit;
    const latestStartMs = Math.floor(atMs / periodMs) * periodMs - periodMs;
    const range: EvaluatedPeriod[] = [];
    for (let index = 0; index < 2 * n; index++) {
      const startMs = latestStartMs - index * periodMs;
      const values = unitMatches ? this.valuesIn(key, startMs, startMs + periodMs) : [];
      range.push(values.length === 0 ? { startMs } : { startMs, value: statisticOf(values, config), sampleCount: totalWeight(values) });
    }
    const real = range.filter((period) => period.value !== undefined);
    const breaches = (period: EvaluatedPeriod): boolean => compare(period.value!, config.comparisonOperator, config.threshold);
    const treat = (config.treatMissingData ?? 'missing') as TreatMissingData;
    const describe = new ReasonWriter(alarm, atMs);

    const evaluated = real.length >= n ? real.slice(0, n) : real;
    if (config.evaluateLowSampleCountPercentile === 'ignore' && config.extendedStatistic !== undefined) {
      const percentile = Number(config.extendedStatistic.slice(1));
      const needed = percentile >= 100 ? 1 : 10 / (1 - percentile / 100);
      if (evaluated.some((period) => period.sampleCount! < needed)) return { keep: true };
    }

    if (real.length >= n) {
      const breaching = evaluated.filter(breaches);
      return breaching.length >= m
        ? describe.threshold('ALARM', { shown: breaching, of: n, minimum: m, evaluated, breaching: true })
        : describe.threshold('OK', { shown: evaluated.filter((period) => !breaches(period)), of: n, minimum: n - m + 1, evaluated, breaching: false });
    }
    if (real.length === 0) {
      switch (treat) {
        case 'missing':
          return describe.insufficient(range.slice(0, n));
        case 'ignore':
          return { keep: true };
        case 'breaching':
          return describe.allMissing('ALARM', n, 'Breaching', range.slice(0, n));
        case 'notBreaching':
          return describe.allMissing('OK', n, 'NonBreaching', range.slice(0, n));
      }
    }
    const breaching = real.filter(breaches);
    const notBreaching = real.filter((period) => !breaches(period));
    const filled = n - real.length;
    switch (treat) {
      case 'breaching':
        return breaching.length + filled >= m
          ? describe.threshold('ALARM', { shown: breaching, of: n, minimum: m, evaluated: real, breaching: true, filled: { count: filled, as: 'Breaching' } })
          : describe.threshold('OK', { shown: notBreaching, of: n, minimum: n - m + 1, evaluated: real, breaching: false, filled: { count: filled, as: 'Breaching' } });
      case 'notBreaching':
        return breaching.length >= m
          ? describe.threshold('ALARM', { shown: breaching, of: n, minimum: m, evaluated: real, breaching: true, filled: { count: filled, as: 'NonBreaching' } })
          : describe.threshold('OK', { shown: notBreaching, of: n, minimum: n - m + 1, evaluated: real, breaching: false, filled: { count: filled, as: 'NonBreaching' } });
      case 'missing': {
        const needed = Math.min(m, real.length);
        return breaching.length >= needed
          ? describe.threshold('ALARM', { shown: breaching, of: real.length, minimum: needed, evaluated: real, breaching: true })
          : describe.threshold('OK', { shown: notBreaching, of: real.length, minimum: real.length - needed + 1, evaluated: real, breaching: false });
      }
      case 'ignore':
        if (breaching.length === 0) return describe.threshold('OK', { shown: notBreaching, of: real.length, minimum: 1, evaluated: real, breaching: false });
        if (breaching.length >= m) return describe.threshold('ALARM', { shown: breaching, of: real.length, minimum: m, evaluated: real, breaching: true });
        return { keep: true };
    }
  }

  private applyVerdict(alarm: StoredMetricAlarm, verdict: Verdict, atMs: number): void {
    if (verdict.keep) return;
    // A state update without a change (the same value again) is not a transition: no event, reason kept.
    if (verdict.value === alarm.state.value) return;
    this.transition(alarm, verdict, atMs, new Set());
  }

  /**
   * Sets an alarm's state. A change of value emits the state-change event and re-evaluates the composite
   * alarms that reference the alarm (`visiting` guards against composite cycles, where CloudWatch stops
   * evaluating too).
   */
  private transition(alarm: StoredAlarm, next: { value: AlarmStateValue; reason: string; reasonData?: string }, atMs: number, visiting: Set<string>): void {
    const previous = alarm.state;
    alarm.state = {
      value: next.value,
      reason: next.reason,
      ...(next.reasonData !== undefined ? { reasonData: next.reasonData } : {}),
      updatedMs: atMs,
      transitionedMs: previous.value !== next.value ? atMs : previous.transitionedMs,
    };
    if (previous.value === next.value) return;
    this.emit(alarm, previous, atMs);
    visiting.add(alarm.name);
    for (const parent of this.parentsOf(alarm.name)) {
      if (parent.type === 'composite' && !visiting.has(parent.name)) this.evaluateComposite(parent, atMs, alarm, visiting);
    }
    visiting.delete(alarm.name);
  }

  private evaluateComposite(alarm: StoredCompositeAlarm, atMs: number, changedChild: StoredAlarm | undefined, visiting: Set<string>): void {
    const stateOf = (reference: string): string | undefined => this.alarms.get(alarm.config.children.get(reference) ?? reference)?.state.value;
    const value: AlarmStateValue = evaluateAlarmRule(alarm.config.tree, stateOf) ? 'ALARM' : 'OK';
    if (value === alarm.state.value) return;
    const triggering = satisfiedStateFunctions(alarm.config.tree, stateOf)
      .map((entry) => this.alarms.get(alarm.config.children.get(entry.alarm) ?? entry.alarm))
      .filter((child): child is StoredAlarm => child !== undefined)
      .map((child) => ({ arn: child.arn, state: { value: child.state.value, timestamp: stateTimestamp(child.state.updatedMs) } }));
    const reason = changedChild
      ? `${changedChild.arn} transitioned to ${changedChild.state.value} at ${longDate(changedChild.state.updatedMs)}`
      : `Alarm rule evaluated when the composite alarm was created or updated at ${longDate(atMs)}`;
    this.transition(alarm, { value, reason, reasonData: JSON.stringify({ triggeringAlarms: triggering }) }, atMs, visiting);
  }

  // ---------------------------------------------------------------- events

  private emit(alarm: StoredAlarm, previous: AlarmState, atMs: number): void {
    const state = alarm.state;
    this.eventCount += 1;
    const event: Record<string, unknown> = {
      version: '0',
      id: deterministicUuid(`${alarm.arn}#event#${this.eventCount}`),
      'detail-type': ALARM_STATE_CHANGE_DETAIL_TYPE,
      source: 'aws.cloudwatch',
      account: this.accountId,
      time: new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources: [alarm.arn],
      detail: {
        alarmName: alarm.name,
        state: {
          value: state.value,
          reason: state.reason,
          ...(state.reasonData !== undefined ? { reasonData: state.reasonData } : {}),
          timestamp: stateTimestamp(state.updatedMs),
        },
        previousState: {
          value: previous.value,
          reason: previous.reason,
          ...(previous.reasonData !== undefined ? { reasonData: previous.reasonData } : {}),
          timestamp: stateTimestamp(previous.updatedMs),
        },
        configuration: alarm.type === 'metric' ? this.metricEventConfiguration(alarm) : this.compositeEventConfiguration(alarm),
      },
    };
    for (const listener of this.listeners) listener(event);
  }

  private metricEventConfiguration(alarm: StoredMetricAlarm): object {
    const config = alarm.config;
    return {
      ...(alarm.description !== undefined ? { description: alarm.description } : {}),
      metrics: [
        {
          id: deterministicUuid(`${alarm.arn}#metric`),
          metricStat: {
            metric: {
              namespace: config.namespace,
              name: config.metricName,
              dimensions: Object.fromEntries(config.dimensions.map((dimension) => [dimension.Name, dimension.Value])),
            },
            period: config.period,
            stat: config.statistic ?? config.extendedStatistic,
            ...(config.unit !== undefined ? { unit: config.unit } : {}),
          },
          returnData: true,
        },
      ],
    };
  }

  private compositeEventConfiguration(alarm: StoredCompositeAlarm): object {
    const config = alarm.config;
    return {
      alarmRule: config.rule,
      ...(alarm.description !== undefined ? { description: alarm.description } : {}),
      ...(config.actionsSuppressor !== undefined
        ? {
            actionsSuppressor: config.actionsSuppressor,
            actionsSuppressorWaitPeriod: config.actionsSuppressorWaitPeriod,
            actionsSuppressorExtensionPeriod: config.actionsSuppressorExtensionPeriod,
          }
        : {}),
    };
  }

  // ---------------------------------------------------------------- names

  private alarmArn(name: string): string {
    return `arn:aws:cloudwatch:${this.region}:${this.accountId}:alarm:${name}`;
  }

  /** The alarm name a rule reference designates: the name itself, or the name in an alarm ARN of this account and region. */
  private alarmNameOf(reference: string): string | undefined {
    const match = /^arn:aws[a-z-]*:cloudwatch:([^:]*):([^:]*):alarm:(.+)$/.exec(reference);
    if (!match) return reference;
    return match[1] === this.region && match[2] === this.accountId ? match[3] : undefined;
  }

  private sortedAlarms(): StoredAlarm[] {
    return this.alarmNames().map((name) => this.alarms.get(name)!);
  }
}

// ---------------------------------------------------------------- reasons

/** Writes StateReason and StateReasonData the way CloudWatch words them. */
class ReasonWriter {
  constructor(
    private readonly alarm: StoredMetricAlarm,
    private readonly atMs: number,
  ) {}

  /**
   * "Threshold Crossed: 2 out of the last 3 datapoints [0.2 (22/11/26 09:01:00), ...] were greater than the
   * threshold (0.01) (minimum 2 datapoints for OK -> ALARM transition)."
   */
  threshold(
    value: 'ALARM' | 'OK',
    facts: {
      shown: readonly EvaluatedPeriod[];
      of: number;
      minimum: number;
      evaluated: readonly EvaluatedPeriod[];
      breaching: boolean;
      filled?: { count: number; as: 'Breaching' | 'NonBreaching' };
    },
  ): Verdict {
    const config = this.alarm.config;
    const count = facts.shown.length;
    const points = facts.shown.map((period) => `${javaDouble(period.value!)} (${reasonDate(period.startMs)})`).join(', ');
    const filled = facts.filled && facts.filled.count > 0 ? `, and ${facts.filled.count} missing datapoint${plural(facts.filled.count)} ${facts.filled.count === 1 ? 'was' : 'were'} treated as [${facts.filled.as}]` : '';
    const reason =
      `Threshold Crossed: ${count} out of the last ${facts.of} datapoints [${points}] ${count === 1 ? 'was' : 'were'} ` +
      `${facts.breaching ? '' : 'not '}${OPERATOR_WORDS[config.comparisonOperator]} the threshold (${javaDouble(config.threshold)})${filled} ` +
      `(minimum ${facts.minimum} datapoint${plural(facts.minimum)} for ${this.alarm.state.value} -> ${value} transition).`;
    const evaluated = facts.evaluated;
    const reasonData = JSON.stringify({
      version: '1.0',
      queryDate: stateTimestamp(this.atMs),
      startDate: stateTimestamp(evaluated.length > 0 ? evaluated[evaluated.length - 1]!.startMs : this.atMs),
      ...(config.unit !== undefined ? { unit: config.unit } : {}),
      statistic: config.statistic ?? config.extendedStatistic,
      period: config.period,
      recentDatapoints: [...evaluated].reverse().map((period) => period.value),
      threshold: config.threshold,
      evaluatedDatapoints: evaluated.map((period) => ({ timestamp: stateTimestamp(period.startMs), sampleCount: period.sampleCount, value: period.value })),
    });
    return { value, reason, reasonData };
  }

  /** "Insufficient Data: 3 datapoints were unknown." */
  insufficient(periods: readonly EvaluatedPeriod[]): Verdict {
    return {
      value: 'INSUFFICIENT_DATA',
      reason: `Insufficient Data: ${periods.length} datapoint${plural(periods.length)} ${periods.length === 1 ? 'was' : 'were'} unknown.`,
      reasonData: this.missingData(periods),
    };
  }

  /** "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching]." */
  allMissing(value: 'ALARM' | 'OK', n: number, as: 'Breaching' | 'NonBreaching', periods: readonly EvaluatedPeriod[]): Verdict {
    return {
      value,
      reason: `Threshold Crossed: no datapoints were received for ${n} period${plural(n)} and ${n} missing datapoint${plural(n)} ${n === 1 ? 'was' : 'were'} treated as [${as}].`,
      reasonData: this.missingData(periods),
    };
  }

  private missingData(periods: readonly EvaluatedPeriod[]): string {
    const config = this.alarm.config;
    return JSON.stringify({
      version: '1.0',
      queryDate: stateTimestamp(this.atMs),
      statistic: config.statistic ?? config.extendedStatistic,
      period: config.period,
      recentDatapoints: [],
      threshold: config.threshold,
      evaluatedDatapoints: periods.map((period) => ({ timestamp: stateTimestamp(period.startMs) })),
    });
  }
}

const OPERATOR_WORDS: Readonly<Record<ComparisonOperator, string>> = {
  GreaterThanThreshold: 'greater than',
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
  LessThanLowerOrGreaterThanUpperThreshold: 'outside the band of',
  LessThanLowerThreshold: 'less than the lower band of',
  GreaterThanUpperThreshold: 'greater than the upper band of',
};

const plural = (count: number): string => (count === 1 ? '' : 's');

// ---------------------------------------------------------------- statistics

/**
 * The values each SageMaker metric gets from one sample. The error metrics emit 1 or 0 per request
 * (Average = rate, Sum = count); Invocations emits 1 per request (Sum = count); ModelLatency's samples each
 * stand for invocations / samples requests, so SampleCount and Sum are those of all the invocations.
 */
function metricValuesOf(sample: VariantTrafficSample): Record<string, WeightedValues> {
  const n = sample.invocations;
  const binary = (ones: number): WeightedValues => positiveWeights([[0, n - ones], [1, ones]]);
  const latencyWeight = sample.modelLatenciesUs.length > 0 ? n / sample.modelLatenciesUs.length : 0;
  return {
    Invocations: [[1, n]],
    Invocation5XXErrors: binary(sample.invocation5xxErrors),
    Invocation4XXErrors: binary(sample.invocation4xxErrors),
    InvocationModelErrors: binary(sample.modelErrors),
    ModelLatency: sample.modelLatenciesUs.map((latency) => [latency, latencyWeight] as const),
  };
}

function positiveWeights(values: readonly (readonly [number, number])[]): WeightedValues {
  return values.filter(([, weight]) => weight > 0);
}

function totalWeight(values: WeightedValues): number {
  return values.reduce((sum, [, weight]) => sum + weight, 0);
}

/** The alarm's statistic of `values` (non-empty). Percentiles are nearest-rank over the weighted values. */
function statisticOf(values: WeightedValues, config: MetricAlarmConfig): number {
  const count = totalWeight(values);
  const sum = values.reduce((total, [value, weight]) => total + value * weight, 0);
  switch (config.statistic) {
    case 'SampleCount':
      return count;
    case 'Sum':
      return sum;
    case 'Average':
      return sum / count;
    // reduce, not Math.min(...values): a day-long period holds too many values for a spread.
    case 'Minimum':
      return values.reduce((least, [value]) => Math.min(least, value), Number.POSITIVE_INFINITY);
    case 'Maximum':
      return values.reduce((most, [value]) => Math.max(most, value), Number.NEGATIVE_INFINITY);
    case undefined:
      return percentileOf(values, Number(config.extendedStatistic!.slice(1)), count);
  }
}

function percentileOf(values: WeightedValues, percentile: number, count: number): number {
  const sorted = [...values].sort((a, b) => a[0] - b[0]);
  const rank = (percentile / 100) * count;
  let cumulative = 0;
  for (const [value, weight] of sorted) {
    cumulative += weight;
    // A relative tolerance absorbs the rounding of fractional weights.
    if (cumulative >= rank - 1e-9 * count) return value;
  }
  return sorted[sorted.length - 1]![0];
}

function compare(value: number, operator: ComparisonOperator, threshold: number): boolean {
  switch (operator) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
    default:
      // Anomaly detection operators are refused by PutMetricAlarm.
      throw new Error(`comparison operator ${operator} is not evaluated by the simulation`);
  }
}

function seriesKey(namespace: string, metricName: string, dimensions: readonly ParsedDimension[]): string {
  // A dimension set matches exactly, whatever the order its dimensions were given in.
  const sorted = [...dimensions].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0)).map((dimension) => [dimension.Name, dimension.Value]);
  return JSON.stringify([namespace, metricName, sorted]);
}

function validateSample(sample: VariantTrafficSample): void {
  const counts = [sample.invocations, sample.invocation5xxErrors, sample.invocation4xxErrors, sample.modelErrors];
  if (!counts.every((count) => Number.isInteger(count) && count >= 0)) {
    throw new RangeError(`traffic sample for ${sample.endpointName}/${sample.variantName}: counts must be non-negative integers`);
  }
  if (sample.invocation5xxErrors + sample.invocation4xxErrors > sample.invocations || sample.modelErrors > sample.invocations) {
    throw new RangeError(`traffic sample for ${sample.endpointName}/${sample.variantName}: more errors than invocations`);
  }
  if (!sample.modelLatenciesUs.every((latency) => Number.isFinite(latency) && latency >= 0)) {
    throw new RangeError(`traffic sample for ${sample.endpointName}/${sample.variantName}: latencies must be non-negative numbers`);
  }
}

// ---------------------------------------------------------------- input checks and errors

/** parseAwsInput, with CloudWatch's name for constraint violations (ValidationError, as its Query API has always answered). */
function parseCloudWatchInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  try {
    return parseAwsInput(schema, input);
  } catch (error) {
    if (error instanceof AwsServiceError && error.code === 'ValidationException') throw validationError(error.message);
    throw error;
  }
}

function checkAlarmName(name: string): void {
  // "The name must contain only UTF-8 characters, and can't contain ASCII control characters."
  if (/[\u0000-\u001f\u007f]/.test(name)) throw validationError(`AlarmName must not contain ASCII control characters: ${JSON.stringify(name)}.`);
}

/** Tags after adding `added` to `existing`: unique keys, no reserved `aws:` prefix, at most 50. */
function checkedTags(added: readonly ParsedTag[], existing: readonly ParsedTag[]): ParsedTag[] {
  const seen = new Set<string>();
  for (const tag of added) {
    if (tag.Key.toLowerCase().startsWith('aws:')) throw new AwsServiceError('InvalidParameterValue', `Tag keys beginning with "aws:" are reserved: "${tag.Key}".`);
    if (seen.has(tag.Key)) throw new AwsServiceError('InvalidParameterValue', `Duplicate tag key "${tag.Key}": tag keys must be unique per resource.`);
    seen.add(tag.Key);
  }
  const merged = new Map(existing.map((tag) => [tag.Key, tag.Value]));
  for (const tag of added) merged.set(tag.Key, tag.Value);
  if (merged.size > MAX_TAGS) throw new AwsServiceError('InvalidParameterValue', `An alarm can have at most ${MAX_TAGS} tags; this request would give it ${merged.size}.`);
  return [...merged].map(([Key, Value]) => ({ Key, Value }));
}

function applyCommonSettings(
  alarm: StoredAlarm,
  input: { AlarmDescription?: string; ActionsEnabled?: boolean; OKActions?: string[]; AlarmActions?: string[]; InsufficientDataActions?: string[] },
  now: number,
): void {
  if (input.AlarmDescription !== undefined) alarm.description = input.AlarmDescription;
  else delete alarm.description;
  alarm.actionsEnabled = input.ActionsEnabled ?? true;
  alarm.okActions = [...(input.OKActions ?? [])];
  alarm.alarmActions = [...(input.AlarmActions ?? [])];
  alarm.insufficientDataActions = [...(input.InsufficientDataActions ?? [])];
  alarm.configurationUpdatedMs = now;
}

function validationError(message: string): AwsServiceError {
  return new AwsServiceError('ValidationError', message);
}

/** CloudWatch's ResourceNotFound is a 404 (SageMaker's error of the same name is a 400). */
function resourceNotFound(message: string): AwsServiceError {
  return new AwsServiceError('ResourceNotFound', message, { httpStatus: 404 });
}

/** AWS accepts these members; the simulation refuses them rather than ignoring what they would change. */
function notSimulated(what: string): AwsServiceError {
  return validationError(`${what} is not supported by the CloudWatch simulation.`);
}

function encodeNextToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64');
}

function decodeNextToken(token: string): number {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof decoded.offset === 'number' && Number.isInteger(decoded.offset) && decoded.offset >= 0) return decoded.offset;
  } catch {
    // Falls through to the error below.
  }
  throw new AwsServiceError('InvalidNextToken', 'The NextToken is not valid: pass the NextToken of a previous DescribeAlarms response.');
}

// ---------------------------------------------------------------- formats

const epochSeconds = (ms: number): number => ms / 1000;

/** `2019-10-02T17:04:40.985+0000`: the timestamp format of alarm states and reason data. */
function stateTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** `02/10/19 16:59:00` (dd/MM/yy HH:mm:ss, UTC): how a datapoint's time is written in a StateReason. */
function reasonDate(ms: number): string {
  const date = new Date(ms);
  const two = (value: number): string => String(value).padStart(2, '0');
  return `${two(date.getUTCDate())}/${two(date.getUTCMonth() + 1)}/${two(date.getUTCFullYear() % 100)} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** `Wednesday 02 October, 2019 17:20:48 UTC`: how a composite alarm's reason dates a child's transition. */
function longDate(ms: number): string {
  const date = new Date(ms);
  const two = (value: number): string => String(value).padStart(2, '0');
  return `${WEEKDAYS[date.getUTCDay()]} ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]}, ${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} UTC`;
}

/** A number the way CloudWatch (Java's Double.toString) prints it in reasons: `50.0`, `0.01`, `1.5E7`. */
export function javaDouble(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  const magnitude = Math.abs(value);
  if (magnitude === 0 || (magnitude >= 1e-3 && magnitude < 1e7)) {
    const text = String(value);
    return text.includes('.') ? text : `${text}.0`;
  }
  const [mantissa, exponent] = value.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** A UUID-shaped identifier derived from `text`: the same on every run. */
function deterministicUuid(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * How CloudWatch's JSON endpoint names each error on the wire: the error shape in `__type`
 * (`com.amazonaws.cloudwatch#<Shape>`) and the Query error code in the `x-amzn-query-error` header
 * (`<Code>;Sender`), which the SDK (awsQueryCompatible) prefers: a ValidationError reaches the code as an
 * SDK `ValidationException` whose `Code` is `ValidationError`, a ResourceNotFound as `ResourceNotFound`.
 */
export const CLOUDWATCH_ERROR_SHAPES: Readonly<Record<string, string>> = {
  ResourceNotFound: 'ResourceNotFound',
  ResourceNotFoundException: 'ResourceNotFoundException',
  InvalidParameterValue: 'InvalidParameterValueException',
  InvalidParameterCombination: 'InvalidParameterCombinationException',
  MissingParameter: 'MissingRequiredParameterException',
  LimitExceeded: 'LimitExceededFault',
  LimitExceededException: 'LimitExceededException',
  InvalidNextToken: 'InvalidNextToken',
  InvalidFormat: 'InvalidFormatFault',
  InternalServiceError: 'InternalServiceFault',
  ConcurrentModificationException: 'ConcurrentModificationException',
  ValidationError: 'ValidationException',
};

/** The headers and JSON body CloudWatch answers an error with (for the transport). */
export function cloudWatchErrorResponse(error: AwsServiceError): { headers: Record<string, string>; body: Record<string, unknown> } {
  const shape = CLOUDWATCH_ERROR_SHAPES[error.code] ?? error.code;
  const fault = error.httpStatus >= 500 ? 'Receiver' : 'Sender';
  return {
    headers: { 'x-amzn-query-error': `${error.code};${fault}` },
    body: { __type: `com.amazonaws.cloudwatch#${shape}`, message: error.message, ...error.details },
  };
}
