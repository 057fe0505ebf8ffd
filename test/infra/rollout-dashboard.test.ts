import { Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseRolloutConfig, type RolloutConfigInput } from '../../lambdas/shared/config';
import { configureMetricsSink, publishRolloutMetrics, ROLLOUT_METRIC_NAMES } from '../../lambdas/shared/metrics';
import { dashboardNameFor, RolloutDashboards } from '../../lib/rollout-dashboard';
import { flatten, TEST_CONFIG, testApp } from './helpers';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;
interface Widget {
  type: string;
  width: number;
  properties: Record<string, any>;
}

function synth(config: RolloutConfigInput = TEST_CONFIG) {
  const app = testApp();
  const stack = new Stack(app, 'Dashboards');
  const construct = new RolloutDashboards(stack, 'Dashboards', { config: parseRolloutConfig(config) });
  const resources = app.synth().getStackByName('Dashboards').template.Resources as Resources;
  const dashboards = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  /** The widgets of the dashboard of `endpoint`, with tokens read as `${AWS::Region}` and the like. */
  const widgetsOf = (endpoint: string): Widget[] => {
    const matches = dashboards.filter((d) => d.Properties.DashboardName === dashboardNameFor(endpoint));
    if (matches.length !== 1) throw new Error(`expected one dashboard for ${endpoint}, found ${matches.length}`);
    return (JSON.parse(flatten(matches[0]!.Properties.DashboardBody)) as { widgets: Widget[] }).widgets;
  };
  return { app, stack, construct, resources, dashboards, widgetsOf };
}

/** The graphs of the endpoint's variants: metric widgets made of (SEARCH) expressions. */
const variantGraphs = (widgets: Widget[]) => widgets.filter((w) => w.type === 'metric' && w.properties.metrics[0][0]?.expression !== undefined);
/** The widgets of this system's own metrics: metric widgets naming metrics of the SageMakerBlueGreen namespace. */
const rolloutMetricWidgets = (widgets: Widget[]) => widgets.filter((w) => w.type === 'metric' && w.properties.metrics[0][0] === 'SageMakerBlueGreen');

/** Every metric expression of a dashboard's variant graphs, by graph title. */
function expressionsByTitle(widgets: Widget[]): Record<string, string[]> {
  return Object.fromEntries(
    variantGraphs(widgets)
      .map((w) => [w.properties.title, (w.properties.metrics as Array<Array<Record<string, unknown>>>).map((m) => m[0]!.expression as string)]),
  );
}

const search = (namespace: string, endpoint: string, metric: string, stat: string) =>
  `SEARCH('{"${namespace}",EndpointName,VariantName} EndpointName="${endpoint}" MetricName="${metric}"', '${stat}', 60)`;

describe('rollout dashboards', () => {
  const { construct, dashboards, widgetsOf } = synth();

  test('one dashboard per target, named after its endpoint, exposed by endpoint name', () => {
    expect(dashboards).toHaveLength(2);
    expect(dashboards.map((d) => d.Properties.DashboardName).sort()).toEqual(['SageMakerBlueGreen-Fraud-Detector-Prod', 'SageMakerBlueGreen-churn-prod']);
    expect([...construct.dashboards.keys()]).toEqual(['Fraud-Detector-Prod', 'churn-prod']);
  });

  test.each(['Fraud-Detector-Prod', 'churn-prod'])('%s: a SEARCH per metric over its own endpoint, one line per variant', (endpoint) => {
    const sm = (metric: string, stat: string) => search('AWS/SageMaker', endpoint, metric, stat);
    const gpu = (metric: string) => search('/aws/sagemaker/Endpoints', endpoint, metric, 'Average');
    expect(expressionsByTitle(widgetsOf(endpoint))).toEqual({
      'Invocations per minute, per variant': [sm('Invocations', 'Sum')],
      'Traffic share % (stands for the current weights)': [`100 * ${sm('Invocations', 'Sum')} / SUM(${sm('Invocations', 'Sum')})`],
      'ModelLatency p50 (ms), per variant': [`${sm('ModelLatency', 'p50')} / 1000`],
      'ModelLatency p99 (ms), per variant': [`${sm('ModelLatency', 'p99')} / 1000`],
      '4xx rate (Average of Invocation4XXErrors)': [sm('Invocation4XXErrors', 'Average')],
      '5xx rate (Average of Invocation5XXErrors)': [sm('Invocation5XXErrors', 'Average')],
      'Model error rate (Average of InvocationModelErrors)': [sm('InvocationModelErrors', 'Average')],
      'GPU utilization %, per variant (all GPUs of an instance)': [gpu('GPUUtilization')],
      'GPU memory utilization %, per variant': [gpu('GPUMemoryUtilization')],
    });
  });

  test('graphs use one-minute periods, name each line by its variant, and label their units', () => {
    const graphs = variantGraphs(widgetsOf('churn-prod'));
    expect(graphs).toHaveLength(9);
    // Besides them, only the rollout metrics' widgets show metrics.
    expect(widgetsOf('churn-prod').filter((w) => w.type === 'metric')).toHaveLength(9 + rolloutMetricWidgets(widgetsOf('churn-prod')).length);
    for (const graph of graphs) {
      const [[line], ...others] = graph.properties.metrics as Array<Array<Record<string, unknown>>>;
      expect(others).toEqual([]);
      expect(line!.period).toBe(60);
      // A search line is labelled by its variant; math over searches has no label of its own (CloudWatch then shows
      // each series' label, the variant's), never the expression, which would name every variant the same.
      const isPureSearch = (line!.expression as string).startsWith('SEARCH(') && (line!.expression as string).endsWith(', 60)');
      expect(line!.label).toBe(isPureSearch ? "${PROP('Dim.VariantName')}" : undefined);
      expect(graph.properties.yAxis.left.label).toEqual(expect.any(String));
    }
    const share = graphs.find((g) => g.properties.title.startsWith('Traffic share'))!;
    expect(share.properties.yAxis.left.label).toBe('traffic share %');
  });

  test("the rollout's alarms: a link to the alarms console filtered by the endpoint's alarm prefix", () => {
    const texts = widgetsOf('Fraud-Detector-Prod').filter((w) => w.type === 'text').map((w) => w.properties.markdown as string);
    const alarms = texts.find((t) => t.startsWith('## Rollout alarms'))!;
    expect(alarms).toContain('`sagemaker-blue-green-Fraud-Detector-Prod-<deployment id>-green-*`');
    expect(alarms).toContain(
      '(https://console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#alarmsV2:?search=sagemaker-blue-green-Fraud-Detector-Prod-)',
    );
    expect(texts.some((t) => t.includes('no metric of variant weights'))).toBe(true);
  });

  test('an alarm status widget lists exactly the target\'s existing alarms', () => {
    const statusOf = (endpoint: string) => widgetsOf(endpoint).filter((w) => w.type === 'alarm').map((w) => w.properties.alarms as string[]);
    const arn = (name: string) => `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${name}`;
    expect(statusOf('Fraud-Detector-Prod')).toEqual([[arn('fraud-prod-p50-latency'), arn('ml-platform-health')]]);
    expect(statusOf('churn-prod')).toEqual([[arn('ml-platform-health')]]);
  });
});

describe("the rollouts' own metrics", () => {
  const { widgetsOf } = synth();
  /** A metric line as CloudWatch's dashboard body spells it: namespace, name, dimension name/value pairs, options. */
  const line = (endpoint: string, metric: string, options: Record<string, unknown>) => [
    'SageMakerBlueGreen',
    metric,
    'EndpointName',
    endpoint,
    'service',
    'sagemaker-blue-green',
    { period: 3600, ...options },
  ];

  test.each(['Fraud-Detector-Prod', 'churn-prod'])('%s: counts over the time range, the longest alarm-to-rollback and the average duration, per endpoint', (endpoint) => {
    const widgets = rolloutMetricWidgets(widgetsOf(endpoint));
    expect(widgets.map((w) => [w.properties.title, w.properties.view, w.properties.metrics])).toEqual([
      [
        'Rollouts in the time range',
        'singleValue',
        [
          line(endpoint, 'RolloutsStarted', { stat: 'Sum', label: 'Started' }),
          line(endpoint, 'RolloutsPromoted', { stat: 'Sum', label: 'Promoted' }),
          line(endpoint, 'RolloutsRolledBack', { stat: 'Sum', label: 'Rolled back' }),
          line(endpoint, 'RolloutsFailed', { stat: 'Sum', label: 'Failed' }),
        ],
      ],
      ['Alarm to rollback (s), longest per hour', 'timeSeries', [line(endpoint, 'AlarmToRollbackSeconds', { stat: 'Maximum', label: 'Alarm to rollback' })]],
      // Average is CloudWatch's default statistic: the body leaves it out.
      ['Rollout duration (s), average per hour', 'timeSeries', [line(endpoint, 'RolloutDurationSeconds', { label: 'Rollout duration' })]],
    ]);
    expect(widgets[0]!.properties.setPeriodToTimeRange).toBe(true);
    // The row right under the header.
    expect(widgetsOf(endpoint).findIndex((w) => w.properties.title === 'Rollouts in the time range')).toBe(1);
  });

  test('each is found under exactly the namespace and dimension set lambdas/shared/metrics.ts publishes it with (EMF)', () => {
    const documents: Array<Record<string, any>> = [];
    configureMetricsSink((document) => documents.push(document));
    try {
      publishRolloutMetrics('churn-prod', [
        { name: ROLLOUT_METRIC_NAMES.started, unit: 'Count', value: 1 },
        { name: ROLLOUT_METRIC_NAMES.durationSeconds, unit: 'Seconds', value: 600 },
      ]);
    } finally {
      configureMetricsSink(undefined);
    }
    expect(documents).toHaveLength(1);
    const [directive] = documents[0]!._aws.CloudWatchMetrics as Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }>;
    const published = directive!.Dimensions.map((set) => Object.fromEntries(set.map((name) => [name, documents[0]![name]])));
    for (const widget of rolloutMetricWidgets(widgetsOf('churn-prod'))) {
      for (const [namespace, metricName, ...rest] of widget.properties.metrics as unknown[][]) {
        const pairs = rest.slice(0, -1) as string[];
        const dimensions = Object.fromEntries(pairs.flatMap((_, i) => (i % 2 === 0 ? [[pairs[i], pairs[i + 1]]] : [])));
        expect([metricName, namespace, dimensions]).toEqual([metricName, directive!.Namespace, published[0]]);
      }
    }
    // One dimension set, and these metric names among what was published.
    expect(published).toHaveLength(1);
    expect(directive!.Metrics.map((m) => m.Name)).toEqual(['RolloutsStarted', 'RolloutDurationSeconds']);
  });
});

describe('a target without existing alarms', () => {
  const noAlarms: RolloutConfigInput = {
    targets: [{ ...TEST_CONFIG.targets[1]!, policy: { ...TEST_CONFIG.targets[1]!.policy, alarms: {} } }],
  };

  test('has no alarm status widget, and the alarms text takes the whole row', () => {
    const { dashboards, widgetsOf } = synth(noAlarms);
    expect(dashboards).toHaveLength(1);
    const widgets = widgetsOf('churn-prod');
    expect(widgets.filter((w) => w.type === 'alarm')).toEqual([]);
    const alarmsText = widgets.find((w) => w.type === 'text' && (w.properties.markdown as string).startsWith('## Rollout alarms'))!;
    expect(alarmsText.width).toBe(24);
  });
});

describe('dashboardNameFor', () => {
  test('keeps valid names, replaces characters CloudWatch refuses, and stays within 255 characters', () => {
    expect(dashboardNameFor('churn-prod')).toBe('SageMakerBlueGreen-churn-prod');
    expect(dashboardNameFor('a.b/c d_e')).toBe('SageMakerBlueGreen-a-b-c-d_e');
    expect(dashboardNameFor('x'.repeat(300))).toHaveLength(255);
  });
});

test('cdk-nag (AwsSolutionsChecks) reports nothing on the dashboards', () => {
  const { app, stack } = synth();
  const checks = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(checks);
  const violations = checks.validateScope(stack).violations;
  expect(violations.map((v) => v.ruleName)).toEqual([]);
});
