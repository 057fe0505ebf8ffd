import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ArtifactsBucket } from '../../lib/artifacts-bucket';
import { artifactsBucketLogicalId, flatten, synthStack, testApp } from './helpers';

const { template } = synthStack();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
const bucketId = artifactsBucketLogicalId(template);
const bucket = resources[bucketId];
const accessLogBucketId = bucket.Properties.LoggingConfiguration.DestinationBucketName.Ref as string;
const accessLogBucket = resources[accessLogBucketId];

const BLOCK_ALL = { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true };
const SSE_S3 = { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] };

/** The statements of the bucket policy attached to a bucket. */
function bucketPolicyStatements(logicalId: string): Array<Record<string, any>> {
  const policies = Object.values(resources).filter((r) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket.Ref === logicalId);
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement;
}

/** The statement denying every request not made over TLS, on the bucket and its objects. */
const denyInsecureTransport = (logicalId: string) => ({
  Action: 's3:*',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Resource: [{ 'Fn::GetAtt': [logicalId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId, 'Arn'] }, '/*']] }],
});

describe('the artifacts bucket', () => {
  test('the stack has two buckets: this one and its access-log bucket', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    expect(accessLogBucketId).not.toBe(bucketId);
    expect(accessLogBucket.Type).toBe('AWS::S3::Bucket');
  });

  test('blocks public access, is encrypted with S3-managed keys, owner-enforced and versioned', () => {
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual(BLOCK_ALL);
    expect(bucket.Properties.BucketEncryption).toEqual(SSE_S3);
    expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  test('denies requests without TLS, and its policy allows nothing', () => {
    const statements = bucketPolicyStatements(bucketId);
    expect(statements).toEqual([denyInsecureTransport(bucketId)]);
  });

  test('expires validation/ objects after 90 days and their previous versions after 30', () => {
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'ExpireValidationArtifacts', Prefix: 'validation/', ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' },
      { Id: 'AbortIncompleteUploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' },
    ]);
  });

  test('is retained when the stack is deleted or the bucket replaced', () => {
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
  });

  test('logs server access to the access-log bucket under its own prefix', () => {
    expect(bucket.Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: accessLogBucketId }, LogFilePrefix: 'artifacts-bucket/' });
  });

  test('is named by the ArtifactsBucketName output', () => {
    template.hasOutput('ArtifactsBucketName', { Value: { Ref: bucketId } });
  });
});

describe('the access-log bucket', () => {
  test('blocks public access, is encrypted with S3-managed keys (the only encryption log delivery supports) and owner-enforced', () => {
    expect(accessLogBucket.Properties.PublicAccessBlockConfiguration).toEqual(BLOCK_ALL);
    expect(accessLogBucket.Properties.BucketEncryption).toEqual(SSE_S3);
    expect(accessLogBucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
  });

  test('denies requests without TLS and lets S3 log delivery write only the artifacts bucket logs', () => {
    const statements = bucketPolicyStatements(accessLogBucketId);
    expect(statements).toHaveLength(2);
    expect(statements).toContainEqual(denyInsecureTransport(accessLogBucketId));
    const delivery = statements.find((s) => s.Effect === 'Allow');
    expect(delivery?.Principal).toEqual({ Service: 'logging.s3.amazonaws.com' });
    expect(delivery?.Action).toBe('s3:PutObject');
    expect(flatten(delivery?.Resource)).toBe(`\${${accessLogBucketId}.Arn}/artifacts-bucket/*`);
    expect(delivery?.Condition).toEqual({
      ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } },
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    });
  });

  test('expires logs after a year, is retained, and does not log itself', () => {
    expect(accessLogBucket.Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'ExpireAccessLogs', ExpirationInDays: 365, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' },
    ]);
    expect(accessLogBucket.DeletionPolicy).toBe('Retain');
    expect(accessLogBucket.Properties.LoggingConfiguration).toBeUndefined();
  });
});

test('retention periods can be chosen', () => {
  const stack = new Stack(testApp(), 'Artifacts');
  const artifacts = new ArtifactsBucket(stack, 'Artifacts', {
    validationRetention: Duration.days(7),
    noncurrentVersionRetention: Duration.days(1),
    accessLogRetention: Duration.days(30),
  });
  const json = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties: Record<string, any> }>;
  const [rule] = json[stack.getLogicalId(artifacts.bucket.node.defaultChild as never)].Properties.LifecycleConfiguration.Rules;
  expect([rule.ExpirationInDays, rule.NoncurrentVersionExpiration.NoncurrentDays]).toEqual([7, 1]);
  const [logRule] = json[stack.getLogicalId(artifacts.accessLogBucket.node.defaultChild as never)].Properties.LifecycleConfiguration.Rules;
  expect(logRule.ExpirationInDays).toBe(30);
  expect(stack.resolve(artifacts.validationObjectsArn())).toEqual({
    'Fn::Join': ['', [{ 'Fn::GetAtt': [stack.getLogicalId(artifacts.bucket.node.defaultChild as never), 'Arn'] }, '/validation/*']],
  });
});
