/**
 * Input schemas of the simulated CloudWatch alarm operations, written from the CloudWatch API model
 * (cloudwatch-2010-08-01): required members, length limits, ranges and enums. Rules the model cannot express
 * (Statistic XOR ExtendedStatistic, valid periods, the one-day evaluation limit...) are checked in
 * cloudwatch.ts with CloudWatch's error names.
 */
import { z } from 'zod';

export const STATE_VALUES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;
export type AlarmStateValue = (typeof STATE_VALUES)[number];

export const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;
export type Statistic = (typeof STATISTICS)[number];

export const COMPARISON_OPERATORS = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
  'LessThanLowerOrGreaterThanUpperThreshold',
  'LessThanLowerThreshold',
  'GreaterThanUpperThreshold',
] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

const STANDARD_UNITS = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
] as const;

const alarmName = z.string().min(1).max(255);
const resourceList = z.array(z.string().min(1).max(1024)).max(5);
const tagKey = z.string().min(1).max(128);
const tag = z.object({ Key: tagKey, Value: z.string().max(256) });
export type ParsedTag = z.output<typeof tag>;
const dimension = z.object({ Name: z.string().min(1).max(255), Value: z.string().min(1).max(1024) });
export type ParsedDimension = z.output<typeof dimension>;

export const putMetricAlarmInput = z.object({
  AlarmName: alarmName,
  AlarmDescription: z.string().max(1024).optional(),
  ActionsEnabled: z.boolean().optional(),
  OKActions: resourceList.optional(),
  AlarmActions: resourceList.optional(),
  InsufficientDataActions: resourceList.optional(),
  MetricName: z.string().min(1).max(255).optional(),
  Namespace: z.string().min(1).max(255).regex(/^[^:]/).optional(),
  Statistic: z.enum(STATISTICS).optional(),
  ExtendedStatistic: z.string().optional(),
  Dimensions: z.array(dimension).max(30).optional(),
  Period: z.int().min(1).optional(),
  Unit: z.enum(STANDARD_UNITS).optional(),
  EvaluationPeriods: z.int().min(1),
  DatapointsToAlarm: z.int().min(1).optional(),
  Threshold: z.number().optional(),
  ComparisonOperator: z.enum(COMPARISON_OPERATORS),
  TreatMissingData: z.string().min(1).max(255).optional(),
  EvaluateLowSampleCountPercentile: z.string().min(1).max(255).optional(),
  // Metric math and anomaly detection: accepted by the schema, refused by the simulation (cloudwatch.ts).
  Metrics: z.unknown().optional(),
  Tags: z.array(tag).optional(),
  ThresholdMetricId: z.string().min(1).max(255).optional(),
});
export type PutMetricAlarmInput = z.output<typeof putMetricAlarmInput>;

export const putCompositeAlarmInput = z.object({
  AlarmName: alarmName,
  AlarmRule: z.string().min(1).max(10240),
  AlarmDescription: z.string().max(1024).optional(),
  ActionsEnabled: z.boolean().optional(),
  OKActions: resourceList.optional(),
  AlarmActions: resourceList.optional(),
  InsufficientDataActions: resourceList.optional(),
  Tags: z.array(tag).optional(),
  ActionsSuppressor: z.string().min(1).max(1600).optional(),
  ActionsSuppressorWaitPeriod: z.int().optional(),
  ActionsSuppressorExtensionPeriod: z.int().optional(),
});
export type PutCompositeAlarmInput = z.output<typeof putCompositeAlarmInput>;

export const describeAlarmsInput = z.object({
  AlarmNames: z.array(alarmName).max(100).optional(),
  AlarmNamePrefix: z.string().min(1).max(255).optional(),
  AlarmTypes: z.array(z.enum(['CompositeAlarm', 'MetricAlarm'])).optional(),
  ChildrenOfAlarmName: alarmName.optional(),
  ParentsOfAlarmName: alarmName.optional(),
  StateValue: z.enum(STATE_VALUES).optional(),
  ActionPrefix: z.string().min(1).max(1024).optional(),
  MaxRecords: z.int().min(1).max(100).optional(),
  NextToken: z.string().optional(),
});

export const deleteAlarmsInput = z.object({ AlarmNames: z.array(alarmName).max(100) });

export const setAlarmStateInput = z.object({
  AlarmName: alarmName,
  StateValue: z.enum(STATE_VALUES),
  StateReason: z.string().max(1023),
  StateReasonData: z.string().max(4000).optional(),
});

const resourceArn = z.string().min(1).max(1024);

export const listTagsForResourceInput = z.object({ ResourceARN: resourceArn });
export const tagResourceInput = z.object({ ResourceARN: resourceArn, Tags: z.array(tag) });
export const untagResourceInput = z.object({ ResourceARN: resourceArn, TagKeys: z.array(tagKey) });
