/**
 * UpdateModelPackage in the SageMaker simulation, through the real SDK client: customer metadata set, replaced and
 * removed, the approval, LastModifiedTime, the API model's limits and patterns, and an unknown package.
 */
import { DescribeModelPackageCommand, UpdateModelPackageCommand, type UpdateModelPackageCommandInput } from '@aws-sdk/client-sagemaker';
import { drive, driveError, harness, IMAGE, GREEN_DATA, installClock, START_MS, type FakeClock, type Harness } from './sim/helpers';

const ACCOUNT_PREFIX = 'arn:aws:sagemaker:us-east-1:123456789012';
const KEY_PATTERN = '^([\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*)${1,128}$';
const VALUE_PATTERN = '^([\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*)${1,256}$';

let clock: FakeClock;
let h: Harness;
let packageArn: string;

beforeEach(() => {
  clock = installClock();
  h = harness();
  packageArn = h.aws.sagemaker.putModelPackage({
    groupName: 'fraud-detector',
    version: 7,
    approvalStatus: 'PendingManualApproval',
    containers: [{ image: IMAGE, modelDataUrl: GREEN_DATA }],
  });
});
afterEach(() => clock.uninstall());

const update = (input: Omit<UpdateModelPackageCommandInput, 'ModelPackageArn'> & { ModelPackageArn?: string }) =>
  drive(clock, h.sagemaker.send(new UpdateModelPackageCommand({ ModelPackageArn: packageArn, ...input })));
const updateError = (input: Omit<UpdateModelPackageCommandInput, 'ModelPackageArn'> & { ModelPackageArn?: string }) =>
  driveError(clock, h.sagemaker.send(new UpdateModelPackageCommand({ ModelPackageArn: packageArn, ...input })));
const describePackage = () => drive(clock, h.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: packageArn })));

describe('customer metadata', () => {
  test('is set by UpdateModelPackage and returned by DescribeModelPackage, with LastModifiedTime', async () => {
    const before = await describePackage();
    expect(before.CustomerMetadataProperties).toBeUndefined();
    expect(before.LastModifiedTime).toBeUndefined();

    await clock.tickAsync(90_000);
    const answer = await update({ CustomerMetadataProperties: { 'deployment:outcome': 'PROMOTED', 'deployment:endpoint': 'fraud-prod' } });
    expect(answer.ModelPackageArn).toBe(packageArn);

    const after = await describePackage();
    expect(after.CustomerMetadataProperties).toEqual({ 'deployment:outcome': 'PROMOTED', 'deployment:endpoint': 'fraud-prod' });
    // Modified when the update arrived (after 90 s and the Describe's and the update's API latency), not at creation.
    const updatedAtMs = START_MS + 90_000 + 2 * h.aws.timings.apiLatencyMs;
    expect(after.LastModifiedTime).toEqual(new Date(updatedAtMs));
    expect(after.CreationTime).toEqual(new Date(START_MS));
    expect(after.ModelApprovalStatus).toBe('PendingManualApproval');
    expect(h.aws.sagemaker.modelPackageSnapshot(packageArn)).toEqual({
      arn: packageArn,
      approvalStatus: 'PendingManualApproval',
      customerMetadataProperties: { 'deployment:outcome': 'PROMOTED', 'deployment:endpoint': 'fraud-prod' },
      lastModifiedTimeMs: updatedAtMs,
    });
  });

  test('a later update adds and replaces properties and removes others; removing every one hides the member', async () => {
    await update({ CustomerMetadataProperties: { outcome: 'ROLLED_BACK', reason: 'AlarmTriggered', attempt: '1' } });
    await clock.tickAsync(60_000);
    await update({ CustomerMetadataProperties: { outcome: 'PROMOTED', 'promoted-at': '2026-01-01T09:01:00Z' }, CustomerMetadataPropertiesToRemove: ['reason', 'never-set'] });

    const described = await describePackage();
    expect(described.CustomerMetadataProperties).toEqual({ outcome: 'PROMOTED', attempt: '1', 'promoted-at': '2026-01-01T09:01:00Z' });
    expect(described.LastModifiedTime!.getTime()).toBe(START_MS + 60_000 + 2 * h.aws.timings.apiLatencyMs);

    await update({ CustomerMetadataPropertiesToRemove: ['outcome', 'attempt', 'promoted-at'] });
    expect((await describePackage()).CustomerMetadataProperties).toBeUndefined();
  });

  test('a key both set and removed in one request is refused, and nothing changes', async () => {
    await update({ CustomerMetadataProperties: { outcome: 'PROMOTED' } });
    const error = await updateError({ CustomerMetadataProperties: { outcome: 'ROLLED_BACK' }, CustomerMetadataPropertiesToRemove: ['outcome'] });
    expect(error.name).toBe('ValidationException');
    expect(error.message).toMatch(/both name outcome/);
    expect(h.aws.sagemaker.modelPackageSnapshot(packageArn)?.customerMetadataProperties).toEqual({ outcome: 'PROMOTED' });
  });
});

describe('approval', () => {
  test('ModelApprovalStatus and ApprovalDescription are applied', async () => {
    await update({ ModelApprovalStatus: 'Rejected', ApprovalDescription: 'Rolled back: p99 latency alarm' });
    const described = await describePackage();
    expect([described.ModelApprovalStatus, described.ApprovalDescription]).toEqual(['Rejected', 'Rolled back: p99 latency alarm']);
  });

  test('a status outside the enum is a ValidationException', async () => {
    const error = await updateError({ ModelApprovalStatus: 'Maybe' as never });
    expect(error.message).toBe(
      "1 validation error detected: Value 'Maybe' at 'modelApprovalStatus' failed to satisfy constraint: Member must satisfy enum value set: [Approved, Rejected, PendingManualApproval]",
    );
  });
});

describe('limits and patterns of the API model', () => {
  test('more than 50 properties in a request, or none, is a ValidationException on the map', async () => {
    const properties = Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`key-${index}`, 'v']));
    const tooMany = await updateError({ CustomerMetadataProperties: properties });
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.$metadata.httpStatusCode).toBe(400);
    expect(tooMany.message).toBe(
      `1 validation error detected: Value '${JSON.stringify(properties)}' at 'customerMetadataProperties' failed to satisfy constraint: Member must have length less than or equal to 50`,
    );

    const none = await updateError({ CustomerMetadataProperties: {} });
    expect(none.message).toBe(
      "1 validation error detected: Value '{}' at 'customerMetadataProperties' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  });

  test('keys and values must match the model\'s pattern and lengths', async () => {
    const badKey = await updateError({ CustomerMetadataProperties: { 'outcome#1': 'PROMOTED' } });
    expect(badKey.message).toBe(
      `1 validation error detected: Value '{"outcome#1":"PROMOTED"}' at 'customerMetadataProperties' failed to satisfy constraint: Map keys must satisfy constraint: ` +
        `[Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ${KEY_PATTERN}]`,
    );

    const longValue = await updateError({ CustomerMetadataProperties: { outcome: 'x'.repeat(257) } });
    expect(longValue.message).toContain(
      `Map values must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ${VALUE_PATTERN}]`,
    );
    // Letters of any script, spaces and the model's punctuation are allowed, at the maximum lengths.
    await update({ CustomerMetadataProperties: { ['k'.repeat(128)]: 'v'.repeat(256), 'résumé clé_1.2:/=+-@': 'Déployé à 10 pour cent' } });
    expect(Object.keys((await describePackage()).CustomerMetadataProperties ?? {})).toHaveLength(2);

    const badRemoval = await updateError({ CustomerMetadataPropertiesToRemove: ['', 'ok', 'no!'] });
    expect(badRemoval.message).toBe(
      '2 validation errors detected: ' +
        "Value '' at 'customerMetadataPropertiesToRemove.1.member' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
        `Value 'no!' at 'customerMetadataPropertiesToRemove.3.member' failed to satisfy constraint: Member must satisfy regular expression pattern: ${KEY_PATTERN}`,
    );
  });

  test('a package cannot hold more than 50 properties across updates', async () => {
    await update({ CustomerMetadataProperties: Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`key-${index}`, 'v'])) });
    const error = await updateError({ CustomerMetadataProperties: { 'one-more': 'v' } });
    expect(error.name).toBe('ValidationException');
    expect(error.message).toMatch(/cannot have more than 50 CustomerMetadataProperties/);
    // Replacing an existing key, or removing one while adding one, stays within the limit.
    await update({ CustomerMetadataProperties: { 'key-0': 'w', 'one-more': 'v' }, CustomerMetadataPropertiesToRemove: ['key-1'] });
    expect(Object.keys(h.aws.sagemaker.modelPackageSnapshot(packageArn)!.customerMetadataProperties)).toHaveLength(50);
  });

  test('members that would change what the package serves are refused by the simulation', async () => {
    const error = await updateError({ SourceUri: 's3://models/fraud/v7/' });
    expect([error.name, error.message]).toEqual(['ValidationException', 'SourceUri is not supported by the SageMaker simulation.']);
  });
});

describe('an unknown or malformed package ARN', () => {
  test('a package that does not exist is a ValidationException, as DescribeModelPackage reports it', async () => {
    const missing = `${ACCOUNT_PREFIX}:model-package/fraud-detector/8`;
    const error = await updateError({ ModelPackageArn: missing, CustomerMetadataProperties: { outcome: 'PROMOTED' } });
    expect([error.name, error.message]).toEqual(['ValidationException', `ModelPackage ${missing} does not exist.`]);
    const described = await driveError(clock, h.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: missing })));
    expect(described.message).toBe(error.message);
  });

  test('an ARN of another account or region does not exist here', async () => {
    const elsewhere = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud-detector/7';
    const error = await updateError({ ModelPackageArn: elsewhere, ModelApprovalStatus: 'Approved' });
    expect(error.message).toBe(`ModelPackage ${elsewhere} does not exist.`);
    expect(h.aws.sagemaker.modelPackageSnapshot(packageArn)?.approvalStatus).toBe('PendingManualApproval');
  });

  test('a name instead of an ARN breaks the model\'s pattern', async () => {
    const error = await updateError({ ModelPackageArn: 'fraud-detector/7' });
    expect(error.message).toBe(
      "1 validation error detected: Value 'fraud-detector/7' at 'modelPackageArn' failed to satisfy constraint: Member must satisfy regular expression pattern: " +
        '^arn:aws(-cn|-us-gov|-iso-f)?:sagemaker:[a-z0-9\\-]{9,16}:[0-9]{12}:model-package\\/[\\S]{1,2048}$',
    );
  });
});
