/**
 * Rollout metrics as CloudWatch Embedded Metric Format (EMF) documents, written with Powertools Metrics. In Lambda a
 * document is one stdout line that CloudWatch Logs turns into metrics: no PutMetricData call, no IAM permission, no
 * latency. The rehearsal and tests route the documents to a sink instead (`configureMetricsSink`).
 *
 * Every document carries the dimension set [service, EndpointName] (plus any extra dimension given), so a metric
 * is found under exactly that set: `service` = SYSTEM_NAME, `EndpointName` = the endpoint the rollout targets.
 *
 * Metrics are observability, not control: nothing here may fail a rollout step. Invalid input is dropped with a
 * warning, and every error is caught and logged.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { createLogger } from './logger';
import { SYSTEM_NAME } from './tags';

export const METRICS_NAMESPACE = 'SageMakerBlueGreen';

/** The dimension that names the endpoint of a rollout, on every metric this system publishes. */
export const ENDPOINT_NAME_DIMENSION = 'EndpointName';
/** The dimension Powertools adds to every metric, with SYSTEM_NAME as its value. */
export const SERVICE_DIMENSION = 'service';

/** The CloudWatch units this system uses (a subset of Powertools' MetricUnit values). */
export type MetricUnitName = 'Count' | 'Seconds' | 'Milliseconds' | 'Percent' | 'None';
const METRIC_UNIT_NAMES = ['Count', 'Seconds', 'Milliseconds', 'Percent', 'None'] as const satisfies readonly MetricUnitName[];
const POWERTOOLS_UNITS: Readonly<Record<MetricUnitName, (typeof MetricUnit)[keyof typeof MetricUnit]>> = {
  Count: MetricUnit.Count,
  Seconds: MetricUnit.Seconds,
  Milliseconds: MetricUnit.Milliseconds,
  Percent: MetricUnit.Percent,
  None: MetricUnit.NoUnit,
};

/** One value of one metric. */
export interface RolloutMetric {
  /** The metric's name, e.g. ROLLOUT_METRIC_NAMES.promoted. */
  readonly name: string;
  /** The CloudWatch unit of `value`. */
  readonly unit: MetricUnitName;
  /** The value; a non-finite one (NaN, ±Infinity) is dropped with a warning (CloudWatch rejects it). */
  readonly value: number;
}

/** The names of the metrics this system publishes (for the dashboard and docs). */
export const ROLLOUT_METRIC_NAMES = {
  started: 'RolloutsStarted',
  promoted: 'RolloutsPromoted',
  rolledBack: 'RolloutsRolledBack',
  failed: 'RolloutsFailed',
  durationSeconds: 'RolloutDurationSeconds',
  alarmToRollbackSeconds: 'AlarmToRollbackSeconds',
  gateValue: 'GateValue',
  gateFailed: 'GateFailed',
  lifecycleEventsFailed: 'LifecycleEventsNotPublished',
} as const;

/** Where EMF documents go instead of stdout; undefined = stdout (Lambda). */
type MetricsSink = (emf: Record<string, unknown>) => void;
let sink: MetricsSink | undefined;

/**
 * Rehearsal/tests: where EMF documents go instead of stdout, or back to stdout with undefined. (Powertools'
 * `logger` option only receives its warnings: EMF always goes to its own stdout Console, so the sink is fed from
 * `serializeMetrics()` here.) A configured sink receives the documents even when POWERTOOLS_METRICS_DISABLED or
 * POWERTOOLS_DEV turn stdout publication off: asking for a sink is asking for the documents.
 */
export function configureMetricsSink(next: MetricsSink | undefined): void {
  sink = next;
}

/** Warnings of this module (dropped values, invalid names, a failing sink); silenced by POWERTOOLS_LOG_LEVEL. */
const warnings = createLogger('metrics');

/**
 * Powertools flushes by itself when a document reaches 100 metrics or one metric 100 values: that flush goes to
 * stdout past the sink and clears the dimensions for the rest of the call. Staying below keeps one call one document.
 */
const MAX_METRICS_PER_PUBLICATION = 99;
/** EMF and CloudWatch allow 30 dimensions a metric; `service` and EndpointName take two. */
const MAX_EXTRA_DIMENSIONS = 28;
/** CloudWatch rejects values outside ±2^360 (MetricDatum.Value). */
const MAX_ABSOLUTE_VALUE = 2 ** 360;

/** CloudWatch's Dimension rules: printable ASCII (no control characters), at least one non-whitespace character. */
const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;
const dimensionValue = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(1024, 'must be at most 1024 characters (CloudWatch DimensionValue)')
  .regex(PRINTABLE_ASCII, 'must contain only printable ASCII characters (CloudWatch dimension rules)')
  .refine((value) => value.trim().length > 0, 'must contain a non-whitespace character');
const dimensionName = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters (CloudWatch DimensionName)')
  .regex(PRINTABLE_ASCII, 'must contain only printable ASCII characters (CloudWatch dimension rules)')
  .refine((name) => name.trim().length > 0, 'must contain a non-whitespace character')
  .refine((name) => !name.startsWith(':'), 'must not start with ":" (CloudWatch dimension rules)')
  .refine(
    (name) => name !== SERVICE_DIMENSION && name !== ENDPOINT_NAME_DIMENSION,
    `must not be "${SERVICE_DIMENSION}" or "${ENDPOINT_NAME_DIMENSION}": those are set by publishRolloutMetrics`,
  );

/** What identifies the metrics (endpoint and extra dimensions): if invalid, nothing is published. */
const PublicationSchema = z.object({
  endpointName: dimensionValue,
  extraDimensions: z
    .record(z.string(), dimensionValue, { error: 'must be an object of dimension names to string values' })
    .refine((dimensions) => Object.keys(dimensions).length <= MAX_EXTRA_DIMENSIONS, `must have at most ${MAX_EXTRA_DIMENSIONS} dimensions`)
    // Names are checked here rather than as the record's key schema, whose issue would not say what was wrong.
    .superRefine((dimensions, context) => {
      for (const name of Object.keys(dimensions)) {
        const checked = dimensionName.safeParse(name);
        if (!checked.success) {
          for (const issue of checked.error.issues) context.addIssue({ code: 'custom', path: [name], message: `name ${issue.message}` });
        }
      }
    }),
  metrics: z
    .array(z.unknown(), { error: 'must be an array' })
    .max(MAX_METRICS_PER_PUBLICATION, `must have at most ${MAX_METRICS_PER_PUBLICATION} metrics per call`),
});

/** One metric: an invalid one is dropped alone. The value's finiteness is checked apart, to say why it was dropped. */
const RolloutMetricSchema = z.object({
  name: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(255, 'must be at most 255 characters (CloudWatch MetricName)'),
  unit: z.enum(METRIC_UNIT_NAMES, { error: `must be one of ${METRIC_UNIT_NAMES.join(', ')}` }),
  value: z.custom<number>((value) => typeof value === 'number', { error: 'must be a number' }),
});

/** "field: message; ..." for a warning. */
function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues.map((issue) => `${[prefix, ...issue.path.map(String)].filter(Boolean).join('.')}: ${issue.message}`).join('; ');
}

/**
 * The metrics that can be published, in order, each with a warning for the ones dropped: invalid shape, a
 * non-finite or out-of-range value, a name that is also a dimension (EMF keeps both at the document's top level),
 * or a name already given with another unit (one EMF metric has one unit).
 */
function publishableMetrics(metrics: readonly unknown[], dimensionNames: ReadonlySet<string>): RolloutMetric[] {
  const kept: RolloutMetric[] = [];
  const unitByName = new Map<string, MetricUnitName>();
  metrics.forEach((candidate, index) => {
    const parsed = RolloutMetricSchema.safeParse(candidate);
    if (!parsed.success) {
      warnings.warn(`Metric dropped: ${describeIssues(parsed.error, `metrics.${index}`)}`);
      return;
    }
    const metric = parsed.data;
    let reason: string | undefined;
    if (!Number.isFinite(metric.value)) reason = `value ${metric.value} is not finite`;
    else if (Math.abs(metric.value) > MAX_ABSOLUTE_VALUE) reason = `value ${metric.value} is outside CloudWatch's ±2^360`;
    else if (dimensionNames.has(metric.name)) reason = `name "${metric.name}" is also a dimension name`;
    else if ((unitByName.get(metric.name) ?? metric.unit) !== metric.unit) {
      reason = `name "${metric.name}" was already given with unit ${unitByName.get(metric.name)}, not ${metric.unit}`;
    }
    if (reason) {
      warnings.warn(`Metric dropped: metrics.${index} (${metric.name}): ${reason}`);
      return;
    }
    unitByName.set(metric.name, metric.unit);
    kept.push(metric);
  });
  return kept;
}

/**
 * Publishes one EMF document: namespace METRICS_NAMESPACE, dimensions `service` (SYSTEM_NAME) and EndpointName,
 * plus `extraDimensions` when given (e.g. `{ Gate: 'latency-p99' }`), all in one dimension set. Never throws (a
 * metrics failure must never fail a rollout step): problems are logged as warnings and the metrics dropped.
 */
export function publishRolloutMetrics(
  endpointName: string,
  metrics: readonly RolloutMetric[],
  extraDimensions: Readonly<Record<string, string>> = {},
): void {
  try {
    const publication = PublicationSchema.safeParse({ endpointName, extraDimensions, metrics });
    if (!publication.success) {
      warnings.warn(`Rollout metrics not published: ${describeIssues(publication.error, '')}`);
      return;
    }
    const dimensions = { [ENDPOINT_NAME_DIMENSION]: publication.data.endpointName, ...publication.data.extraDimensions };
    const kept = publishableMetrics(publication.data.metrics, new Set([SERVICE_DIMENSION, ...Object.keys(dimensions)]));
    // Powertools warns on an empty flush; dropping everything was warned about already.
    if (kept.length === 0) return;

    // A fresh instance per call: its dimensions and metrics cannot leak into another call's document.
    const emf = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SYSTEM_NAME, logger: warnings });
    // addDimension (not addDimensions, which starts a separate dimension set) keeps all in one set.
    for (const [name, value] of Object.entries(dimensions)) emf.addDimension(name, value);
    for (const metric of kept) emf.addMetric(metric.name, POWERTOOLS_UNITS[metric.unit], metric.value);

    const target = sink;
    if (target) {
      const document = emf.serializeMetrics() as Record<string, unknown>;
      emf.clearMetrics();
      target(document);
    } else {
      emf.publishStoredMetrics();
    }
  } catch (error) {
    warnings.warn('Rollout metrics not published', error as Error);
  }
}
