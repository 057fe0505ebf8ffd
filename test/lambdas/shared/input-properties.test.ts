/**
 * Property-based tests of every parser of outside input: the approval event, the alarm event, a step's input
 * (parseInput), the configuration (parseRolloutConfig, targetsFromEnvironment); and of the two handlers that take
 * events from EventBridge. Whatever arrives, a parser returns a value that keeps the schema's invariants or throws
 * the project's validation error (InputValidationError, ConfigurationError) naming the offending field; never a
 * TypeError, never a prototype change; and a rejected event changes nothing in AWS.
 *
 * Inputs: arbitrary values (fc.anything), arbitrary JSON, and valid inputs with one mutation (a field dropped, a
 * value replaced by junk: another type, a huge or unicode string, deep nesting, an object with prototype-named
 * keys; a key injected, `__proto__` and `constructor` among them).
 *
 * Runs are reproducible: the seed is fixed (FC_SEED overrides it, FC_RUNS the number of runs per property), and
 * fast-check prints the seed and the counterexample's path on failure.
 */
import 'aws-sdk-client-mock-jest';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { handler as onAlarmHandler } from '../../../lambdas/on-alarm';
import { handler as resolveRolloutHandler } from '../../../lambdas/resolve-rollout';
import { resolveRollout, ResolveRolloutInputSchema } from '../../../lambdas/resolve-rollout/resolve';
import {
  parseRolloutConfig,
  TARGETS_ENV,
  targetsFromEnvironment,
  type RolloutConfig,
  type RolloutConfigInput,
} from '../../../lambdas/shared/config';
import { ConfigurationError, InputValidationError, RolloutError } from '../../../lambdas/shared/errors';
import { AlarmStateChangeEventSchema, MODEL_PACKAGE_ARN_PATTERN, ModelPackageStateChangeEventSchema } from '../../../lambdas/shared/events';
import { rolloutAlarmNames, SAGEMAKER_NAME_PATTERN } from '../../../lambdas/shared/names';
import { parseInput, PlanInputSchema, RolloutPlanSchema } from '../../../lambdas/shared/plan';
import { ROLLOUTS_TABLE_ENV } from '../../../lambdas/shared/rollout-record';
import { trafficStepPercents } from '../../../lambdas/shared/traffic';
import {
  ACCOUNT,
  approvalEvent,
  BLUE,
  BLUE_CONFIG,
  DATASET_URI,
  describedEndpoint,
  DEPLOYMENT_ID,
  ENDPOINT,
  EXECUTION_ARN,
  GROUP,
  IMAGE,
  makePlan,
  MODEL_DATA_URL,
  PACKAGE_ARN,
  REGION,
  TARGET_CONFIG,
  useTargets,
  VERSION,
} from '../support/fixtures';

const SEED = Number(process.env.FC_SEED ?? 20_250_305);
const NUM_RUNS = Number(process.env.FC_RUNS ?? 200);
const RUNS = { seed: SEED, numRuns: NUM_RUNS };

// ------------------------------------------------------------------------------------------ arbitraries

type Key = string | number | symbol;
type Path = readonly Key[];

/** Keys that name Object.prototype members or the prototype itself. */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf'];

/** An object with own properties named like prototype members (as JSON.parse creates them: `__proto__` included). */
const prototypeKeyedObject: fc.Arbitrary<Record<string, unknown>> = fc
  .uniqueArray(fc.tuple(fc.constantFrom(...PROTOTYPE_KEYS), fc.jsonValue({ maxDepth: 2 })), { minLength: 1, maxLength: 4, selector: ([k]) => k })
  .map((entries) => {
    const object: Record<string, unknown> = {};
    for (const [k, v] of entries) Object.defineProperty(object, k, { value: v, enumerable: true, writable: true, configurable: true });
    return object;
  });

/** Strings of 5k to 60k characters (far beyond every limit), some valid-looking: a name or an ARN that is only too long. */
const hugeString: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }), fc.integer({ min: 5_000, max: 10_000 })).map(([s, n]) => s.repeat(n)),
  fc.integer({ min: 5_000, max: 60_000 }).map((n) => `a${'-'.repeat(n)}b`),
  fc.integer({ min: 5_000, max: 60_000 }).map((n) => `a${'b'.repeat(n)}`),
  fc.integer({ min: 3_000, max: 60_000 }).map((n) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${GROUP}/${'7'.repeat(n)}`),
);

/** Arrays or objects nested 50 to 1000 levels deep. */
const deeplyNested: fc.Arbitrary<unknown> = fc
  .tuple(fc.integer({ min: 50, max: 1000 }), fc.boolean())
  .map(([depth, arrays]) => {
    let value: unknown = arrays ? [] : {};
    for (let i = 0; i < depth; i++) value = arrays ? [value] : { nested: value };
    return value;
  });

/** What replaces a valid value. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme' }) },
  { weight: 2, arbitrary: hugeString },
  { weight: 1, arbitrary: deeplyNested },
  { weight: 1, arbitrary: prototypeKeyedObject },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, -1, 1e300, Number.MAX_SAFE_INTEGER + 2, 0.5)) },
);

/** Anything a JavaScript caller could pass, not only JSON (maps, dates, boxed values, null-prototype objects, ...). */
const anyValue = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withTypedArray: true,
  withSparseArray: true,
  withUnicodeString: true,
});

type Mutation =
  | { readonly kind: 'drop'; readonly path: Path }
  | { readonly kind: 'replace'; readonly path: Path; readonly value: unknown }
  | { readonly kind: 'inject'; readonly path: Path; readonly key: string | symbol; readonly value: unknown };

const isContainer = (value: unknown): value is Record<Key, unknown> => typeof value === 'object' && value !== null;
const isPlainObject = (value: unknown): value is Record<string, unknown> => isContainer(value) && !Array.isArray(value);

/** Every node's path (the root's is []), depth first. */
function nodePaths(value: unknown, path: Path = []): Path[] {
  if (!isContainer(value)) return [path];
  return [path, ...Object.keys(value).flatMap((k) => nodePaths(value[k], [...path, Array.isArray(value) ? Number(k) : k]))];
}

function getAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, k) => (isContainer(node) ? node[k] : undefined), root);
}

/** Sets an own property as JSON.parse would (a `__proto__` key is a property, not the prototype). */
function defineAt(container: Record<Key, unknown>, k: Key, value: unknown): void {
  Object.defineProperty(container, k, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy of plain JSON (not structuredClone: Jest runs tests in another realm, whose prototypes differ). */
function clone(value: unknown): unknown {
  if (!isContainer(value)) return value;
  if (Array.isArray(value)) return value.map(clone);
  const copy: Record<string, unknown> = {};
  for (const k of Object.keys(value)) defineAt(copy, k, clone(value[k]));
  return copy;
}

function applyMutation(valid: unknown, mutation: Mutation): unknown {
  const root = clone(valid);
  const { path } = mutation;
  if (mutation.kind === 'replace' && path.length === 0) return mutation.value;
  const parentPath = mutation.kind === 'inject' ? path : path.slice(0, -1);
  const parent = getAt(root, parentPath) as Record<Key, unknown>;
  const last = path[path.length - 1]!;
  if (mutation.kind === 'drop') delete parent[last];
  else if (mutation.kind === 'replace') defineAt(parent, last, mutation.value);
  else defineAt(parent, mutation.key, mutation.value);
  return root;
}

/**
 * A value near a valid leaf: a string lengthened by repeating its last character or by hyphens after the first
 * (a name or an ARN that still matches its pattern but is too long), a number at and around its neighbours, zero, negatives, fractions and
 * large values (the edges of ranges, integer and multiple-of rules).
 */
function nearValue(leaf: unknown): fc.Arbitrary<unknown> {
  if (typeof leaf === 'string' && leaf.length > 0) {
    const count = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 60, max: 5000 }));
    return fc.oneof(
      count.map((n) => leaf + leaf.slice(-1).repeat(n)),
      // SageMaker's name pattern admits any number of hyphens between two characters.
      count.map((n) => `${leaf.slice(0, 1)}${'-'.repeat(n)}${leaf.slice(1)}`),
    );
  }
  if (typeof leaf === 'number') {
    return fc.oneof(
      fc.integer({ min: -2, max: 2 }).map((d) => leaf + d),
      fc.constantFrom(0, -0, -1, 0.5, leaf + 0.5, leaf * 60, leaf * 1000, 2 ** 31, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e308),
    );
  }
  return fc.constant(leaf === null ? {} : null);
}

/** One mutation of `valid`: drop an object's field, replace any node with junk or a leaf with a near value, inject a key. */
function mutationOf(valid: unknown): fc.Arbitrary<Mutation> {
  const paths = nodePaths(valid);
  const fields = paths.filter((p) => p.length > 0 && typeof p[p.length - 1] === 'string');
  const objects = paths.filter((p) => isPlainObject(getAt(valid, p)));
  const leaves = paths.filter((p) => p.length > 0 && !isContainer(getAt(valid, p)));
  const injectedKey = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ unit: 'binary', maxLength: 20 }), fc.string().map((s) => Symbol(s)));
  return fc.oneof(
    fc.constantFrom(...fields).map((path): Mutation => ({ kind: 'drop', path })),
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...paths), junk).map(([path, value]): Mutation => ({ kind: 'replace', path, value })) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...leaves).chain((path) => nearValue(getAt(valid, path)).map((value): Mutation => ({ kind: 'replace', path, value }))),
    },
    fc.tuple(fc.constantFrom(...objects), injectedKey, junk).map(([path, key, value]): Mutation => ({ kind: 'inject', path, key, value })),
  );
}

/** A valid input with one mutation, and the mutation (to say which field the error must name). */
const mutated = (valid: unknown) => mutationOf(valid).map((mutation) => ({ mutation, input: applyMutation(valid, mutation) }));

// ------------------------------------------------------------------------------------------ valid inputs

const APPROVAL = approvalEvent();
const OWN_ALARMS = rolloutAlarmNames(ENDPOINT, DEPLOYMENT_ID);
const ALARM = {
  version: '0',
  id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
  'detail-type': 'CloudWatch Alarm State Change',
  source: 'aws.cloudwatch',
  account: ACCOUNT,
  time: '2025-03-01T10:31:02Z',
  region: REGION,
  resources: [`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${OWN_ALARMS.errorRate}`],
  detail: {
    alarmName: OWN_ALARMS.errorRate,
    state: { value: 'ALARM', reason: 'Threshold Crossed', reasonData: '{"version":"1.0"}', timestamp: '2025-03-01T10:31:02.113+0000' },
    previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: '2025-03-01T10:20:00.000+0000' },
    configuration: { metrics: [{ id: 'm1', metricStat: { metric: { namespace: 'AWS/SageMaker', name: 'Invocation5XXErrors' } } }] },
  },
};
/**
 * A plan whose alarm policy has evaluationPeriods = datapointsToAlarm = 1: then only a change of
 * datapointsToAlarm itself can break the cross-field rule, so the error always names the mutated field.
 */
const PLAN_INPUT = { plan: makePlan({ alarms: { ...makePlan().alarms, evaluationPeriods: 1, datapointsToAlarm: 1 } }) };

/** Two targets, every field written out (the parsed form of a config is a valid config), as JSON carries it. */
const FULL_CONFIG: RolloutConfigInput = JSON.parse(
  JSON.stringify(
    parseRolloutConfig({
      targets: [
        {
          ...TARGET_CONFIG.targets[0]!,
          policy: {
            ...TARGET_CONFIG.targets[0]!.policy,
            traffic: { mode: 'LINEAR', linearStepPercent: 30 },
            alarms: { evaluationPeriods: 1, datapointsToAlarm: 1, existingAlarmNames: ['fraud-platform-health'] },
            validation: { datasetS3Uri: DATASET_URI, samplePayloadBuckets: ['model-samples'], scorePath: 'predictions[0].score' },
          },
        },
        { ...TARGET_CONFIG.targets[0]!, modelPackageGroupName: 'churn-predictor', endpointName: 'churn-prod' },
      ],
    }),
  ),
);

// ------------------------------------------------------------------------------------------ checks

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: RolloutError };

/** Runs `parse`; an error other than `errorClass` (TypeError, RangeError, a zod error, ...) fails the property. */
function attempt<T>(parse: () => T, errorClass: typeof InputValidationError | typeof ConfigurationError): Outcome<T> {
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    if (!(error instanceof errorClass) || error.name !== errorClass.name) {
      throw new Error(`expected ${errorClass.name} or a parsed value, got ${error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : String(error)}`);
    }
    return { ok: false, error };
  }
}

/** How parseInput names a field: `event.detail.ModelPackageArn`, `(input)` for the whole input. */
const inputPathText = (path: Path): string => path.map(String).join('.') || '(input)';

/** How parseRolloutConfig names a field: `targets[0] (fraud-detector).green.instanceType` (a valid group labels the target), `(root)` for the whole. */
function configPathText(raw: unknown, path: Path): string {
  const [first, index, ...rest] = path;
  if (first === 'targets' && typeof index === 'number') {
    const group = getAt(raw, ['targets', index, 'modelPackageGroupName']);
    const label = typeof group === 'string' && group.length <= 63 && SAGEMAKER_NAME_PATTERN.test(group) ? ` (${group})` : '';
    return `targets[${index}]${label}${rest.length ? `.${rest.map(String).join('.')}` : ''}`;
  }
  return path.map(String).join('.') || '(root)';
}

/**
 * Fields whose validity depends on a sibling: changing one may be reported on the other (the object is named,
 * not the changed field). The payload source is a union on `kind`; a `kind` of another variant makes that
 * variant's fields missing.
 */
const CROSS_FIELD_PARENTS: readonly string[] = ['plan.payloads'];

/** The message names the field a mutation broke (an injected key: the object it was injected into). */
function expectNamesField(message: string, mutation: Mutation, pathText: (path: Path) => string): void {
  const field = pathText(mutation.path);
  if (mutation.kind === 'replace' && mutation.path.length === 0) return; // the whole input: any field may be named
  if (message.includes(field)) return;
  const parent = pathText(mutation.path.slice(0, -1));
  if (CROSS_FIELD_PARENTS.includes(parent) && message.includes(parent)) return;
  throw new Error(`the error does not name ${field}: ${message.slice(0, 1000)}`);
}

/** Nothing reached Object.prototype, and every object in `value` is a plain object or array (no swapped prototype). */
function expectNoPrototypeChange(value: unknown): void {
  if (Object.keys(Object.prototype).length > 0 || ({} as Record<string, unknown>).polluted !== undefined) {
    throw new Error(`Object.prototype was changed: ${Object.keys(Object.prototype).join(', ')}`);
  }
  const walk = (node: unknown, depth: number): void => {
    if (!isContainer(node) || depth > 64) return;
    const proto = Object.getPrototypeOf(node);
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
      throw new Error(`an object of the parsed value has prototype ${String(proto?.constructor?.name)}`);
    }
    for (const k of Object.keys(node)) walk(node[k], depth + 1);
  };
  walk(value, 0);
}

function expectApprovalInvariants(event: unknown): void {
  const parsed = ModelPackageStateChangeEventSchema.parse(event);
  const { detail } = parsed;
  expect(parsed.source).toBe('aws.sagemaker');
  expect(parsed['detail-type']).toBe('SageMaker Model Package State Change');
  expect(detail.ModelPackageGroupName).toMatch(SAGEMAKER_NAME_PATTERN);
  expect(detail.ModelPackageGroupName.length).toBeLessThanOrEqual(63);
  expect(Number.isSafeInteger(detail.ModelPackageVersion) && detail.ModelPackageVersion >= 1).toBe(true);
  expect(detail.ModelPackageArn).toMatch(MODEL_PACKAGE_ARN_PATTERN);
  expect(detail.ModelPackageArn.length).toBeLessThanOrEqual(2048);
  expect(detail.ModelApprovalStatus.length).toBeGreaterThan(0);
  expectNoPrototypeChange(event);
}

function expectAlarmInvariants(event: unknown): void {
  const parsed = AlarmStateChangeEventSchema.parse(event);
  expect(parsed.source).toBe('aws.cloudwatch');
  expect(parsed.detail.alarmName.length).toBeGreaterThan(0);
  expect(parsed.detail.alarmName.length).toBeLessThanOrEqual(255);
  expect(['OK', 'ALARM', 'INSUFFICIENT_DATA']).toContain(parsed.detail.state.value);
  expectNoPrototypeChange(event);
}

/** What synth writes to ROLLOUT_TARGETS reads back as the same configuration; cross-field rules hold. */
function expectConfigInvariants(config: RolloutConfig): void {
  const roundTripped = targetsFromEnvironment({ [TARGETS_ENV]: JSON.stringify(config) });
  expect(JSON.stringify(roundTripped)).toBe(JSON.stringify(config));
  expect(new Set(config.targets.map((t) => t.modelPackageGroupName)).size).toBe(config.targets.length);
  expect(new Set(config.targets.map((t) => t.endpointName)).size).toBe(config.targets.length);
  for (const target of config.targets) {
    expect(target.policy.alarms.datapointsToAlarm).toBeLessThanOrEqual(target.policy.alarms.evaluationPeriods);
    const steps = trafficStepPercents(target.policy.traffic);
    expect(RolloutPlanSchema.shape.traffic.shape.stepPercents.safeParse(steps).success).toBe(true);
    expect(steps[steps.length - 1]).toBe(100);
    expect(steps.every((step, i) => i === 0 || step > steps[i - 1]!)).toBe(true);
  }
  expectNoPrototypeChange(config);
}

// ------------------------------------------------------------------------------------------ parsers

const parseApproval = (input: unknown) => attempt(() => parseInput(ModelPackageStateChangeEventSchema, input, 'resolve-rollout'), InputValidationError);
const parseAlarm = (input: unknown) => attempt(() => parseInput(AlarmStateChangeEventSchema, input, 'on-alarm'), InputValidationError);
const parseResolveInput = (input: unknown) => attempt(() => parseInput(ResolveRolloutInputSchema, input, 'resolve-rollout'), InputValidationError);
const parsePlanInput = (input: unknown) => attempt(() => parseInput(PlanInputSchema, input, 'provision-green'), InputValidationError);
const parseConfig = (input: unknown) => attempt(() => parseRolloutConfig(input), ConfigurationError);
const parseEnvironment = (text: string | undefined) => attempt(() => targetsFromEnvironment({ [TARGETS_ENV]: text }), ConfigurationError);

describe('parsers of outside input: arbitrary values', () => {
  test.each([
    ['approval event', parseApproval],
    ['alarm event', parseAlarm],
    ['resolve-rollout input', parseResolveInput],
    ['a step input (plan)', parsePlanInput],
    ['configuration', parseConfig],
  ] as const)('%s: anything (not only JSON) is parsed or refused with the validation error', (_, parse) => {
    fc.assert(
      fc.property(anyValue, (input) => {
        parse(input);
      }),
      RUNS,
    );
  });

  test.each([
    ['approval event', parseApproval],
    ['alarm event', parseAlarm],
    ['resolve-rollout input', parseResolveInput],
    ['configuration', parseConfig],
  ] as const)('%s: arbitrary JSON is refused with the validation error', (_, parse) => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        // Random JSON is never a valid event or configuration (required literals and names).
        expect(parse(input).ok).toBe(false);
      }),
      RUNS,
    );
  });

  test('ROLLOUT_TARGETS: any text (JSON or not, truncated, deeply nested) gives a configuration or a ConfigurationError', () => {
    const valid = JSON.stringify(FULL_CONFIG);
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.nat({ max: valid.length }).map((n) => valid.slice(0, n)),
      fc.integer({ min: 1000, max: 100_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
      mutated(FULL_CONFIG).map(({ input }) => JSON.stringify(input)),
    );
    fc.assert(
      fc.property(text, (raw) => {
        const outcome = parseEnvironment(raw);
        if (outcome.ok) expectConfigInvariants(outcome.value);
        else expect(outcome.error.message).toMatch(new RegExp(`^(${TARGETS_ENV} is|Invalid ${TARGETS_ENV}:)`));
      }),
      RUNS,
    );
  });
});

describe('parsers of outside input: a valid input with one field dropped, changed or injected', () => {
  test('approval event: parsed with its invariants, or refused naming the field', () => {
    fc.assert(
      fc.property(mutated(APPROVAL), ({ mutation, input }) => {
        const outcome = parseApproval(input);
        if (outcome.ok) expectApprovalInvariants(outcome.value);
        else expectNamesField(outcome.error.message, mutation, inputPathText);
      }),
      RUNS,
    );
  });

  test('alarm event: parsed with its invariants, or refused naming the field', () => {
    fc.assert(
      fc.property(mutated(ALARM), ({ mutation, input }) => {
        const outcome = parseAlarm(input);
        if (outcome.ok) expectAlarmInvariants(outcome.value);
        else expectNamesField(outcome.error.message, mutation, inputPathText);
      }),
      RUNS,
    );
  });

  test('resolve-rollout input: parsed, or refused naming the field', () => {
    fc.assert(
      fc.property(mutated({ event: APPROVAL, executionArn: EXECUTION_ARN }), ({ mutation, input }) => {
        const outcome = parseResolveInput(input);
        if (outcome.ok) {
          expectApprovalInvariants(outcome.value.event);
          expect(outcome.value.executionArn.length).toBeGreaterThan(0);
        } else expectNamesField(outcome.error.message, mutation, inputPathText);
      }),
      RUNS,
    );
  });

  test('a step input (the plan): parsed as a plan, or refused naming the field', () => {
    fc.assert(
      fc.property(mutated(PLAN_INPUT), ({ mutation, input }) => {
        const outcome = parsePlanInput(input);
        if (outcome.ok) {
          expect(RolloutPlanSchema.safeParse(outcome.value.plan).success).toBe(true);
          expectNoPrototypeChange(outcome.value);
        } else expectNamesField(outcome.error.message, mutation, inputPathText);
      }),
      RUNS,
    );
  });

  test('configuration: parsed with its invariants (it survives the trip through ROLLOUT_TARGETS), or refused naming the field', () => {
    const duplicate = fc
      .constantFrom('modelPackageGroupName', 'endpointName')
      .map((field): Mutation => ({ kind: 'replace', path: ['targets', 1, field], value: getAt(FULL_CONFIG, ['targets', 0, field]) }))
      .map((mutation) => ({ mutation, input: applyMutation(FULL_CONFIG, mutation) }));
    fc.assert(
      fc.property(fc.oneof({ weight: 9, arbitrary: mutated(FULL_CONFIG) }, { weight: 1, arbitrary: duplicate }), ({ mutation, input }) => {
        const outcome = parseConfig(input);
        if (outcome.ok) expectConfigInvariants(outcome.value);
        else expectNamesField(outcome.error.message, mutation, (path) => configPathText(input, path));
      }),
      RUNS,
    );
  });
});

describe('parsers of outside input: examples the properties found or guard', () => {
  test('a symbol key in a record (the plan\'s container environment) is refused by name, not a TypeError', () => {
    const plan = makePlan();
    const environment = { SAGEMAKER_PROGRAM: 'inference.py', [Symbol('injected')]: 1 };
    const input = { plan: { ...plan, modelPackage: { ...plan.modelPackage, containers: [{ image: IMAGE, environment }] } } };
    const outcome = parsePlanInput(input);
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.message).toMatch(/plan\.modelPackage\.containers\.0\.environment\.Symbol\(injected\): /);
  });

  test.each([
    ['ModelPackageGroupName', { ModelPackageGroupName: `a${'-'.repeat(100)}b` }, /detail\.ModelPackageGroupName: must be at most 63 characters/],
    ['ModelPackageArn', { ModelPackageArn: `${PACKAGE_ARN}${'7'.repeat(2048)}` }, /detail\.ModelPackageArn: must be at most 2048 characters/],
  ])('an approval event whose %s matches the pattern but is longer than SageMaker allows', (_, detail, message) => {
    const outcome = parseApproval(approvalEvent(detail));
    expect(!outcome.ok && outcome.error.message).toMatch(message);
  });

  test('an alarm name longer than CloudWatch allows', () => {
    const outcome = parseAlarm({ ...ALARM, detail: { ...ALARM.detail, alarmName: 'a'.repeat(256) } });
    expect(!outcome.ok && outcome.error.message).toMatch(/detail\.alarmName: must be at most 255 characters/);
  });

  test('a missing field is reported as required', () => {
    const { detail: _detail, ...withoutDetail } = APPROVAL;
    const outcome = parseApproval(withoutDetail);
    expect(!outcome.ok && outcome.error.message).toBe('resolve-rollout: invalid input: detail: is required');
  });

  test('`__proto__` in an event is neither kept nor made the prototype', () => {
    const event = JSON.parse(JSON.stringify(APPROVAL).replace('"detail":{', '"__proto__":{"polluted":true},"detail":{"__proto__":{"ModelApprovalStatus":"Rejected"},'));
    const outcome = parseApproval(event);
    expect(outcome.ok).toBe(true);
    const parsed = (outcome as { value: Record<string, unknown> & { detail: Record<string, unknown> } }).value;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(parsed.detail)).toBe(Object.prototype);
    expect(parsed.polluted).toBeUndefined();
    expect(parsed.detail.ModelApprovalStatus).toBe('Approved');
  });

  test('an invalid group name is reported once, at its field, not repeated as the label of every other field of its target', () => {
    const raw = structuredClone(TARGET_CONFIG) as { targets: Record<string, unknown>[] };
    raw.targets[0]!.modelPackageGroupName = `fraud${'-'.repeat(60_000)}detector`;
    raw.targets[0]!.endpointName = 'fraud_detector_prod';
    const message = attempt(() => parseRolloutConfig(raw), ConfigurationError);
    expect(!message.ok && message.error.message.split('\n').slice(1)).toEqual([
      expect.stringMatching(/^  targets\[0\]\.modelPackageGroupName: modelPackageGroupName must be at most 63 characters$/),
      expect.stringMatching(/^  targets\[0\]\.endpointName: endpointName must match /),
    ]);
  });

  test('`__proto__` or `constructor` in the configuration is an unknown key, named', () => {
    const raw = JSON.parse(JSON.stringify(TARGET_CONFIG).replace('"green":{', '"green":{"__proto__":{"initialInstanceCount":50},'));
    expect(() => parseRolloutConfig(raw)).toThrow(/targets\[0\] \(fraud-detector\)\.green: Unrecognized key: "__proto__"/);
  });
});

// ------------------------------------------------------------------------------------------ handlers

const sageMaker = mockClient(SageMakerClient);
const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const dynamo = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);
const MOCKS = { sageMaker, runtime, s3, dynamo, sfn };

/** Reads only: the handlers may describe, list and get; anything else would change AWS. */
const READ_ONLY = /^(Describe|List|Get)/;

/** Every command sent to any mocked client, as `client:Command`. */
const sentCommands = (): string[] =>
  Object.entries(MOCKS).flatMap(([client, mock]) => mock.calls().map((call) => `${client}:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`));

const mutatingCommands = (): string[] => sentCommands().filter((name) => !READ_ONLY.test(name.split(':')[1]!));

function resetMocks(): void {
  for (const mock of Object.values(MOCKS)) mock.reset();
  sageMaker.on(DescribeModelPackageCommand).resolves({
    ModelPackageName: GROUP,
    ModelPackageGroupName: GROUP,
    ModelPackageVersion: VERSION,
    ModelPackageArn: PACKAGE_ARN,
    ModelApprovalStatus: 'Approved',
    InferenceSpecification: { Containers: [{ Image: IMAGE, ModelDataUrl: MODEL_DATA_URL }], SupportedContentTypes: ['application/json'] },
  });
  sageMaker.on(DescribeEndpointCommand).resolves(describedEndpoint({ configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName }] }));
  sageMaker.on(DescribeEndpointConfigCommand).resolves(BLUE_CONFIG);
  // No rollout is active: a valid alarm event finds nothing to roll back (reads only).
  dynamo.on(GetItemCommand).resolves({});
}

describe('configuration and plan agree', () => {
  test('every configuration the schema accepts plans a rollout the plan schema accepts (no "planned rollout" error)', async () => {
    const client = new SageMakerClient({ region: REGION });
    const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined };
    let planned = 0;
    await fc.assert(
      fc.asyncProperty(mutated(FULL_CONFIG), async ({ input }) => {
        const outcome = parseConfig(input);
        if (!outcome.ok) return;
        resetMocks();
        // The package matches whatever group the first target now names (the mock leaves group and version out).
        sageMaker.on(DescribeModelPackageCommand).resolves({
          ModelPackageArn: PACKAGE_ARN,
          ModelApprovalStatus: 'Approved',
          SamplePayloadUrl: 's3://model-samples/fraud/7/sample.tar.gz',
          InferenceSpecification: { Containers: [{ Image: IMAGE, ModelDataUrl: MODEL_DATA_URL }] },
        });
        const target = outcome.value.targets[0]!;
        const event = approvalEvent({ ModelPackageGroupName: target.modelPackageGroupName });
        const plan = await resolveRollout({ event: ModelPackageStateChangeEventSchema.parse(event), executionArn: EXECUTION_ARN }, { sageMaker: client, config: outcome.value, logger });
        expect(RolloutPlanSchema.safeParse(plan).success).toBe(true);
        expect(plan.traffic.stepPercents).toEqual(trafficStepPercents(target.policy.traffic));
        planned += 1;
      }),
      RUNS,
    );
    // Most mutations break the configuration; enough of them keep it valid for the property to mean something.
    expect(planned).toBeGreaterThan(NUM_RUNS / 10);
  });
});

describe('handlers given arbitrary or mutated events', () => {
  beforeEach(() => {
    useTargets();
    process.env[ROLLOUTS_TABLE_ENV] = 'sagemaker-blue-green-rollouts';
  });

  test('resolve-rollout: plans or refuses with a named RolloutError, and never calls a mutating operation', async () => {
    const input = fc.oneof(anyValue, fc.jsonValue(), mutated({ event: APPROVAL, executionArn: EXECUTION_ARN }).map((m) => m.input));
    await fc.assert(
      fc.asyncProperty(input, async (event) => {
        resetMocks();
        let failure: unknown;
        const plan = await resolveRolloutHandler(event).catch((error: unknown) => {
          failure = error;
          return undefined;
        });
        expect(mutatingCommands()).toEqual([]);
        if (plan) return void expect(RolloutPlanSchema.safeParse(plan).success).toBe(true);
        if (!(failure instanceof RolloutError)) throw new Error(`not a RolloutError: ${String(failure)}`);
        if (failure instanceof InputValidationError) expect(sentCommands()).toEqual([]);
      }),
      RUNS,
    );
  });

  test('on-alarm: refuses a malformed event before any call, and never calls a mutating operation', async () => {
    const input = fc.oneof(anyValue, fc.jsonValue(), mutated(ALARM).map((m) => m.input));
    await fc.assert(
      fc.asyncProperty(input, async (event) => {
        resetMocks();
        let failure: unknown;
        const result = await onAlarmHandler(event).catch((error: unknown) => {
          failure = error;
          return undefined;
        });
        expect(mutatingCommands()).toEqual([]);
        if (result) return void expect(result.results.every((r) => r.outcome === 'NO_ACTIVE_ROLLOUT')).toBe(true);
        if (!(failure instanceof InputValidationError)) throw new Error(`not an InputValidationError: ${String(failure)}`);
        expect(sentCommands()).toEqual([]);
      }),
      RUNS,
    );
  });
});
