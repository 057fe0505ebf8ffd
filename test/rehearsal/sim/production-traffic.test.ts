/**
 * Production traffic: the split by the variants' current weights, which endpoints receive traffic, the
 * failures each model's behaviour (error rate, outage) causes, latencies in microseconds, determinism, and
 * the samples driving a CloudWatch alarm.
 */
import { CloudWatchSimulation } from '../../../rehearsal/sim/cloudwatch';
import { binomial, MAX_LATENCY_SAMPLES_PER_PERIOD, ProductionTraffic } from '../../../rehearsal/sim/production-traffic';
import { SeededRandom } from '../../../rehearsal/sim/rng';
import type { VariantTrafficSample } from '../../../rehearsal/sim/cloudwatch';
import { BLUE_DATA, GREEN_DATA, harness, IMAGE, installClock, START_MS, type FakeClock, type Harness } from './helpers';

const ENDPOINT = 'fraud-prod';

let clock: FakeClock;
let h: Harness;

beforeEach(() => {
  clock = installClock();
  h = harness();
});
afterEach(() => clock.uninstall());

/** Production traffic at `requestsPerSecond`; created before the endpoints, as SimulatedAws creates it. */
function traffic(requestsPerSecond: number, seed = 1): ProductionTraffic {
  return new ProductionTraffic(h.aws.sagemaker, h.aws.runtime, { requestsPerSecond, random: new SeededRandom(seed) });
}

function seedBlueGreen(blueWeight: number, greenWeight: number, endpointName = ENDPOINT): void {
  h.aws.sagemaker.seedEndpoint({
    endpointName,
    endpointConfigName: `${endpointName}-transition`,
    variants: [
      { variantName: 'blue', modelName: 'blue-model', image: IMAGE, modelDataUrl: BLUE_DATA, instanceType: 'ml.g5.xlarge', instanceCount: 2, weight: blueWeight },
      { variantName: 'green', modelName: 'green-model', image: IMAGE, modelDataUrl: GREEN_DATA, instanceType: 'ml.g5.xlarge', instanceCount: 1, weight: greenWeight },
    ],
  });
}

const byVariant = (samples: readonly VariantTrafficSample[]): Record<string, VariantTrafficSample> =>
  Object.fromEntries(samples.map((sample) => [`${sample.endpointName}/${sample.variantName}`, sample]));
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('split', () => {
  test('requests split by weight / sum of weights, with latencies in microseconds and the endpoint config', () => {
    const production = traffic(10);
    seedBlueGreen(3, 1);
    const samples = byVariant(production.sample(60, START_MS + 60_000));
    const blue = samples[`${ENDPOINT}/blue`]!;
    const green = samples[`${ENDPOINT}/green`]!;
    expect([blue.invocations, green.invocations]).toEqual([450, 150]);
    expect([blue.invocation5xxErrors, blue.invocation4xxErrors, blue.modelErrors]).toEqual([0, 0, 0]);
    expect(blue.endpointConfigName).toBe(`${ENDPOINT}-transition`);
    expect([blue.modelLatenciesUs.length, green.modelLatenciesUs.length]).toEqual([MAX_LATENCY_SAMPLES_PER_PERIOD, 150]);
    // The default behaviour has a 40 ms median: 40,000 µs.
    expect(median(blue.modelLatenciesUs)).toBeGreaterThan(32_000);
    expect(median(blue.modelLatenciesUs)).toBeLessThan(48_000);
    expect(blue.modelLatenciesUs.every((latency) => Number.isInteger(latency))).toBe(true);
  });

  test('a variant at weight 0 gets a sample with no invocations; the weights in force are the CURRENT ones', () => {
    const production = traffic(10);
    seedBlueGreen(1, 0);
    expect(byVariant(production.sample(60, Date.now()))[`${ENDPOINT}/green`]).toMatchObject({ invocations: 0, modelLatenciesUs: [] });
    h.aws.sagemaker.execute('UpdateEndpointWeightsAndCapacities', {
      EndpointName: ENDPOINT,
      DesiredWeightsAndCapacities: [
        { VariantName: 'blue', DesiredWeight: 9 },
        { VariantName: 'green', DesiredWeight: 1 },
      ],
    });
    // Updating: the old weights serve until the update completes (30 s).
    clock.tick(29_000);
    expect(production.sample(60, Date.now()).map((sample) => sample.invocations)).toEqual([600, 0]);
    clock.tick(1_000);
    expect(production.sample(60, Date.now()).map((sample) => sample.invocations)).toEqual([540, 60]);
  });

  test('only serving endpoints get traffic: not while Creating, not once Deleting or deleted', () => {
    const production = traffic(1);
    seedBlueGreen(1, 1);
    h.aws.sagemaker.execute('CreateEndpoint', { EndpointName: 'fraud-staging', EndpointConfigName: `${ENDPOINT}-transition` });
    expect(new Set(production.sample(60, Date.now()).map((sample) => sample.endpointName))).toEqual(new Set([ENDPOINT]));
    clock.tick(480_000);
    expect(new Set(production.sample(60, Date.now()).map((sample) => sample.endpointName))).toEqual(new Set([ENDPOINT, 'fraud-staging']));
    h.aws.sagemaker.execute('DeleteEndpoint', { EndpointName: ENDPOINT });
    expect(new Set(production.sample(60, Date.now()).map((sample) => sample.endpointName))).toEqual(new Set(['fraud-staging']));
    clock.tick(90_000);
    expect(new Set(production.sample(60, Date.now()).map((sample) => sample.endpointName))).toEqual(new Set(['fraud-staging']));
  });

  test('no requests at 0 requests per second; a negative rate is refused', () => {
    const production = traffic(0);
    seedBlueGreen(1, 1);
    expect(production.sample(60, Date.now()).map((sample) => sample.invocations)).toEqual([0, 0]);
    expect(() => traffic(-1)).toThrow(/requestsPerSecond/);
  });
});

describe('failures', () => {
  test('the error rate fails that share of requests, as 5xx and model errors', () => {
    const production = traffic(20);
    seedBlueGreen(1, 1);
    h.aws.runtime.setBehaviour(GREEN_DATA, { errorRate: 0.1 });
    const totals = { blue: 0, green: 0, requests: 0 };
    for (let minute = 1; minute <= 10; minute++) {
      const samples = byVariant(production.sample(60, START_MS + minute * 60_000));
      const green = samples[`${ENDPOINT}/green`]!;
      expect(green.modelErrors).toBe(green.invocation5xxErrors);
      expect(green.invocation4xxErrors).toBe(0);
      totals.green += green.invocation5xxErrors;
      totals.blue += samples[`${ENDPOINT}/blue`]!.invocation5xxErrors;
      totals.requests += green.invocations;
    }
    expect(totals.requests).toBe(6000);
    // Binomial(6000, 0.1): mean 600, standard deviation 23.
    expect(totals.green).toBeGreaterThan(530);
    expect(totals.green).toBeLessThan(670);
    expect(totals.blue).toBe(0);
  });

  test("during the model's outage every request fails; a period straddling its start fails in proportion", () => {
    const production = traffic(10);
    seedBlueGreen(1, 1);
    h.aws.runtime.setBehaviour(GREEN_DATA, { outage: { fromSecond: 120, toSecond: 240 } });
    const greenAt = (second: number): [number, number] => {
      const green = byVariant(production.sample(60, START_MS + second * 1000))[`${ENDPOINT}/green`]!;
      return [green.invocation5xxErrors, green.invocations];
    };
    expect([greenAt(60), greenAt(150), greenAt(180), greenAt(240), greenAt(300)]).toEqual([
      [0, 300],
      [150, 300],
      [300, 300],
      [300, 300],
      [0, 300],
    ]);
    expect(byVariant(production.sample(60, START_MS + 180_000))[`${ENDPOINT}/blue`]!.invocation5xxErrors).toBe(0);
  });

  test('binomial draws: exact for small counts, approximations for large ones, within the expected spread', () => {
    const random = new SeededRandom(5);
    expect(binomial(random, 0, 0.5)).toBe(0);
    expect(binomial(random, 10, 0)).toBe(0);
    expect(binomial(random, 10, 1)).toBe(10);
    const normal = binomial(random, 100_000, 0.3);
    expect(Math.abs(normal - 30_000)).toBeLessThan(600);
    const poisson = binomial(random, 100_000, 0.0001);
    expect(poisson).toBeGreaterThanOrEqual(0);
    expect(poisson).toBeLessThan(30);
    const mirrored = binomial(random, 100_000, 0.9999);
    expect(100_000 - mirrored).toBeLessThan(30);
  });
});

test('the same seed gives the same samples; another seed does not', () => {
  const run = (seed: number): VariantTrafficSample[][] => {
    clock.uninstall();
    clock = installClock();
    h = harness();
    const production = traffic(5, seed);
    seedBlueGreen(1, 1);
    h.aws.runtime.setBehaviour(GREEN_DATA, { errorRate: 0.2 });
    return [1, 2, 3].map((minute) => production.sample(60, START_MS + minute * 60_000));
  };
  const first = run(3);
  expect(run(3)).toEqual(first);
  expect(run(4)).not.toEqual(first);
});

test("green's outage drives its CloudWatch 5xx alarm to ALARM, and the event names the alarm", () => {
  const production = traffic(10);
  const cloudWatch = new CloudWatchSimulation({ region: h.aws.region, accountId: h.aws.accountId });
  const events: Record<string, any>[] = [];
  cloudWatch.onAlarmStateChange((event) => events.push(event));
  seedBlueGreen(9, 1);
  h.aws.runtime.setBehaviour(GREEN_DATA, { outage: { fromSecond: 180 } });
  cloudWatch.execute('PutMetricAlarm', {
    AlarmName: 'sagemaker-blue-green-fraud-prod-green-errors',
    Namespace: 'AWS/SageMaker',
    MetricName: 'Invocation5XXErrors',
    Dimensions: [
      { Name: 'EndpointName', Value: ENDPOINT },
      { Name: 'VariantName', Value: 'green' },
    ],
    Statistic: 'Average',
    Period: 60,
    EvaluationPeriods: 2,
    DatapointsToAlarm: 2,
    Threshold: 0.05,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'missing',
  });
  const states: string[] = [];
  for (let minute = 1; minute <= 5; minute++) {
    clock.tick(60_000);
    cloudWatch.publish(production.sample(60, Date.now()), Date.now());
    states.push(cloudWatch.alarmSnapshot('sagemaker-blue-green-fraud-prod-green-errors')!.state);
  }
  // Minutes 4 and 5 are the outage's first two: 2 of 2 datapoints at a 100% error rate.
  expect(states).toEqual(['OK', 'OK', 'OK', 'OK', 'ALARM']);
  expect(events.at(-1)!.detail).toMatchObject({ alarmName: 'sagemaker-blue-green-fraud-prod-green-errors', state: { value: 'ALARM' } });
  expect(events.at(-1)!.detail.state.reason).toMatch(/^Threshold Crossed: 2 out of the last 2 datapoints \[1\.0 \(01\/01\/26 09:04:00\), 1\.0 \(01\/01\/26 09:03:00\)\]/);
});
