/**
 * One CloudWatch dashboard per deployment target: the rollouts themselves (this system's own metrics: how many
 * started, were promoted, rolled back or failed, how long they took, how fast an alarm rolled one back), blue and
 * green side by side (invocations, traffic share, ModelLatency p50/p99, 4xx/5xx/model error rates, GPU utilization
 * and memory), where to find the rollout's alarms, and the target's existing alarms.
 *
 * Variant names change with every rollout (lambdas/shared/names.ts), so no widget can name a variant at deploy
 * time: every graph is a SEARCH over the endpoint's `{EndpointName, VariantName}` metrics, one line per variant
 * that published in the graph's time range.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { DeploymentTarget, RolloutConfig } from '../lambdas/shared/config';
import { ENDPOINT_NAME_DIMENSION, METRICS_NAMESPACE, ROLLOUT_METRIC_NAMES, SERVICE_DIMENSION } from '../lambdas/shared/metrics';
import { ALARM_NAME_PREFIX } from '../lambdas/shared/names';
import { SYSTEM_NAME } from '../lambdas/shared/tags';

/** Every dashboard this construct creates is named `SageMakerBlueGreen-<endpoint name>` (sanitized). */
export const DASHBOARD_NAME_PREFIX = 'SageMakerBlueGreen-';
/** CloudWatch's limits on a dashboard name. */
const DASHBOARD_NAME_MAX_LENGTH = 255;
const DASHBOARD_NAME_INVALID = /[^A-Za-z0-9_-]/g;

/** SageMaker publishes endpoint metrics every minute. */
const PERIOD = Duration.minutes(1);
/**
 * Legend labels. Without one, CDK labels a line with its expression, and a label shared by every series of a
 * SEARCH would hide which variant is which: a search line is named by its variant (a dynamic label, applied to
 * each series the search returns); a math expression over searches gets the empty label, which keeps each
 * series' own label (the variant's).
 */
export const VARIANT_LABEL = "${PROP('Dim.VariantName')}";
const SERIES_OWN_LABEL = '';
/** Invocation metrics; also published per EndpointConfigName after an update, which the schema below leaves out. */
const SAGEMAKER_NAMESPACE = 'AWS/SageMaker';
/** Instance and GPU metrics. */
const ENDPOINT_INSTANCE_NAMESPACE = '/aws/sagemaker/Endpoints';

/** Rollouts are rare: their metrics are graphed per hour. */
const ROLLOUT_METRICS_PERIOD = Duration.hours(1);

/**
 * One of this system's own metrics of an endpoint's rollouts, under exactly the dimension set
 * lambdas/shared/metrics.ts publishes it with (EMF): `service` (Powertools' service name, SYSTEM_NAME) and EndpointName.
 * A metric is found only under its exact dimension set, so these two and nothing more.
 */
export function rolloutMetric(endpointName: string, metricName: string, statistic: string, label: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { [SERVICE_DIMENSION]: SYSTEM_NAME, [ENDPOINT_NAME_DIMENSION]: endpointName },
    statistic,
    period: ROLLOUT_METRICS_PERIOD,
    label,
  });
}

/** `SageMakerBlueGreen-<endpoint>`, with characters CloudWatch refuses replaced by `-`, at most 255 characters. */
export function dashboardNameFor(endpointName: string): string {
  return `${DASHBOARD_NAME_PREFIX}${endpointName}`.replace(DASHBOARD_NAME_INVALID, '-').slice(0, DASHBOARD_NAME_MAX_LENGTH);
}

/**
 * The SEARCH of one metric of one endpoint, one time series per variant. The schema `{namespace, EndpointName,
 * VariantName}` matches only series with exactly these dimensions, so the per-EndpointConfigName copies are not
 * counted twice. The namespace is quoted: `/aws/sagemaker/Endpoints` holds characters a bare name may not.
 */
export function variantSearch(namespace: string, endpointName: string, metricName: string, statistic: string): string {
  return `SEARCH('{"${namespace}",EndpointName,VariantName} EndpointName="${endpointName}" MetricName="${metricName}"', '${statistic}', ${PERIOD.toSeconds()})`;
}

export interface RolloutDashboardsProps {
  /** The validated deployment targets: one dashboard each. */
  readonly config: RolloutConfig;
}

/**
 * A dashboard per target, named `SageMakerBlueGreen-<endpoint>`. The rollout's own alarms are created at run time
 * with per-rollout names, which an AlarmStatusWidget cannot match by pattern: a text widget links to the alarms
 * console filtered by their prefix instead. There is no metric of variant weights either: the share of
 * invocations each variant served stands for them.
 */
export class RolloutDashboards extends Construct {
  /** Endpoint name -> its dashboard. */
  readonly dashboards: ReadonlyMap<string, cloudwatch.Dashboard>;

  constructor(scope: Construct, id: string, props: RolloutDashboardsProps) {
    super(scope, id);
    const dashboards = new Map<string, cloudwatch.Dashboard>();
    const byName = new Map<string, string>();
    props.config.targets.forEach((target, index) => {
      const dashboardName = dashboardNameFor(target.endpointName);
      const other = byName.get(dashboardName);
      if (other !== undefined) {
        throw new Error(`endpoints "${other}" and "${target.endpointName}" would share the dashboard name "${dashboardName}"`);
      }
      byName.set(dashboardName, target.endpointName);
      dashboards.set(
        target.endpointName,
        new cloudwatch.Dashboard(this, `Dashboard${index}`, { dashboardName, widgets: this.widgetsFor(target, index) }),
      );
    });
    this.dashboards = dashboards;
  }

  private widgetsFor(target: DeploymentTarget, index: number): cloudwatch.IWidget[][] {
    const endpoint = target.endpointName;
    const region = Stack.of(this).region;
    const alarmPrefix = `${ALARM_NAME_PREFIX}${endpoint}-`;
    const search = (namespace: string, metricName: string, statistic: string) =>
      new cloudwatch.MathExpression({
        expression: variantSearch(namespace, endpoint, metricName, statistic),
        usingMetrics: {},
        period: PERIOD,
        label: VARIANT_LABEL,
      });
    const graph = (title: string, metrics: cloudwatch.IMetric[], leftLabel: string, width = 12) =>
      new cloudwatch.GraphWidget({ title, left: metrics, leftYAxis: { label: leftLabel, showUnits: false, min: 0 }, width, height: 6 });
    // ModelLatency is in microseconds; a SEARCH result can be divided like any other series.
    const latencyMs = (statistic: string) =>
      new cloudwatch.MathExpression({
        expression: `${variantSearch(SAGEMAKER_NAMESPACE, endpoint, 'ModelLatency', statistic)} / 1000`,
        usingMetrics: {},
        period: PERIOD,
        label: SERIES_OWN_LABEL,
      });
    const invocations = variantSearch(SAGEMAKER_NAMESPACE, endpoint, 'Invocations', 'Sum');
    const trafficShare = new cloudwatch.MathExpression({
      expression: `100 * ${invocations} / SUM(${invocations})`,
      usingMetrics: {},
      period: PERIOD,
      label: SERIES_OWN_LABEL,
    });

    const header = new cloudwatch.TextWidget({
      width: 24,
      height: 5,
      markdown: [
        `# Blue/green rollouts of endpoint \`${endpoint}\` (model package group \`${target.modelPackageGroupName}\`)`,
        'Each graph has one line per production variant: blue is the variant serving before a rollout, green the one it adds ' +
          '(named `v<model package version>-<deployment id>`). Variant names change with every rollout, so the lines come from SEARCH expressions.',
        '',
        '**Current weights:** SageMaker publishes no metric of variant weights. "Traffic share %" is each variant\'s share of the ' +
          "endpoint's invocations per minute, which follows the weights once traffic flows (and shows nothing without traffic). " +
          `The exact weights are in \`aws sagemaker describe-endpoint --endpoint-name ${endpoint}\` (ProductionVariants[].CurrentWeight).`,
      ].join('\n'),
    });
    const alarmsText = new cloudwatch.TextWidget({
      width: existingAlarms(target).length > 0 ? 12 : 24,
      height: 6,
      markdown: [
        '## Rollout alarms',
        `Each rollout creates three alarms on its green variant (5xx rate, model error rate, ModelLatency p99), named ` +
          `\`${alarmPrefix}<deployment id>-green-*\`; they are deleted when the rollout ends. An ALARM rolls the rollout back.`,
        '',
        `[Alarms of rollouts to ${endpoint}](https://console.aws.amazon.com/cloudwatch/home?region=${region}#alarmsV2:?search=${alarmPrefix})`,
        '',
        'The existing alarms this target also watches (policy.alarms.existingAlarmNames) roll a rollout back too.',
      ].join('\n'),
    });
    const alarmsRow: cloudwatch.IWidget[] = [alarmsText];
    const existing = existingAlarms(target);
    if (existing.length > 0) {
      alarmsRow.push(
        new cloudwatch.AlarmStatusWidget({
          title: 'Existing alarms watched during rollouts',
          width: 12,
          height: 6,
          alarms: existing.map((alarmName, i) =>
            cloudwatch.Alarm.fromAlarmArn(
              this,
              `ExistingAlarm${index}-${i}`,
              Stack.of(this).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: alarmName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
            ),
          ),
        }),
      );
    }

    const rolloutCounts = new cloudwatch.SingleValueWidget({
      title: 'Rollouts in the time range',
      width: 12,
      height: 6,
      // Counts over the whole range the dashboard shows, not per period: rollouts are a few a day.
      setPeriodToTimeRange: true,
      metrics: [
        rolloutMetric(endpoint, ROLLOUT_METRIC_NAMES.started, 'Sum', 'Started'),
        rolloutMetric(endpoint, ROLLOUT_METRIC_NAMES.promoted, 'Sum', 'Promoted'),
        rolloutMetric(endpoint, ROLLOUT_METRIC_NAMES.rolledBack, 'Sum', 'Rolled back'),
        rolloutMetric(endpoint, ROLLOUT_METRIC_NAMES.failed, 'Sum', 'Failed'),
      ],
    });
    const rolloutTimes = (title: string, metric: cloudwatch.IMetric) =>
      new cloudwatch.GraphWidget({ title, left: [metric], leftYAxis: { label: 'seconds', showUnits: false, min: 0 }, width: 6, height: 6 });

    return [
      [header],
      [
        rolloutCounts,
        rolloutTimes('Alarm to rollback (s), longest per hour', rolloutMetric(endpoint, ROLLOUT_METRIC_NAMES.alarmToRollbackSeconds, 'Maximum', 'Alarm to rollback')),
        rolloutTimes('Rollout duration (s), average per hour', rolloutMetric(endpoint, ROLLOUT_METRIC_NAMES.durationSeconds, 'Average', 'Rollout duration')),
      ],
      [
        graph('Invocations per minute, per variant', [search(SAGEMAKER_NAMESPACE, 'Invocations', 'Sum')], 'invocations'),
        graph('Traffic share % (stands for the current weights)', [trafficShare], 'traffic share %'),
      ],
      [
        graph('ModelLatency p50 (ms), per variant', [latencyMs('p50')], 'ms'),
        graph('ModelLatency p99 (ms), per variant', [latencyMs('p99')], 'ms'),
      ],
      [
        graph('4xx rate (Average of Invocation4XXErrors)', [search(SAGEMAKER_NAMESPACE, 'Invocation4XXErrors', 'Average')], 'rate (0-1)', 8),
        graph('5xx rate (Average of Invocation5XXErrors)', [search(SAGEMAKER_NAMESPACE, 'Invocation5XXErrors', 'Average')], 'rate (0-1)', 8),
        graph('Model error rate (Average of InvocationModelErrors)', [search(SAGEMAKER_NAMESPACE, 'InvocationModelErrors', 'Average')], 'rate (0-1)', 8),
      ],
      [
        graph('GPU utilization %, per variant (all GPUs of an instance)', [search(ENDPOINT_INSTANCE_NAMESPACE, 'GPUUtilization', 'Average')], '%'),
        graph('GPU memory utilization %, per variant', [search(ENDPOINT_INSTANCE_NAMESPACE, 'GPUMemoryUtilization', 'Average')], '%'),
      ],
      alarmsRow,
    ];
  }
}

/** The target's existing alarms, once each. */
function existingAlarms(target: DeploymentTarget): string[] {
  return [...new Set(target.policy.alarms.existingAlarmNames)];
}
