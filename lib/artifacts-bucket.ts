/**
 * The system's own bucket: validation samples (one object per batch) and validation reports, under
 * `validation/`. Its server access logs go to a second bucket, so who read or wrote a report can be audited.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Key prefix of every object the validation steps write (samples and reports). */
export const VALIDATION_PREFIX = 'validation/';
/** Key prefix of the artifacts bucket's access logs in the access-log bucket. */
export const ACCESS_LOG_PREFIX = 'artifacts-bucket/';

export interface ArtifactsBucketProps {
  /**
   * How long validation samples and reports are kept after they are written.
   * @default Duration.days(90)
   */
  readonly validationRetention?: Duration;
  /**
   * How long an overwritten or deleted validation object's previous version is kept.
   * @default Duration.days(30)
   */
  readonly noncurrentVersionRetention?: Duration;
  /**
   * How long server access logs are kept.
   * @default Duration.days(365)
   */
  readonly accessLogRetention?: Duration;
}

/**
 * Two private, TLS-only, S3-encrypted buckets kept when the stack is deleted (reports are the audit trail of
 * past rollouts): the artifacts bucket, versioned, expiring `validation/` objects; and its access-log bucket.
 */
export class ArtifactsBucket extends Construct {
  /** Validation samples and reports (the functions' ARTIFACTS_BUCKET). */
  readonly bucket: s3.Bucket;
  /** The artifacts bucket's server access logs, under ACCESS_LOG_PREFIX. */
  readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArtifactsBucketProps = {}) {
    super(scope, id);

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Server access logging delivers only to SSE-S3 buckets (not SSE-KMS).
      encryption: s3.BucketEncryption.S3_MANAGED,
      // Delivery is allowed by a bucket policy (feature flag serverAccessLogsUseBucketPolicy), so no ACLs.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: props.accessLogRetention ?? Duration.days(365),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the server access log destination of the artifacts bucket; logging its own accesses would need yet another ' +
        'log bucket with the same finding (logging a bucket into itself makes S3 log its own log deliveries, endlessly)',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: ACCESS_LOG_PREFIX,
      lifecycleRules: [
        {
          id: 'ExpireValidationArtifacts',
          prefix: VALIDATION_PREFIX,
          expiration: props.validationRetention ?? Duration.days(90),
          noncurrentVersionExpiration: props.noncurrentVersionRetention ?? Duration.days(30),
        },
        {
          // Samples are single PutObjects, but an interrupted multipart upload would otherwise be billed forever.
          id: 'AbortIncompleteUploads',
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
  }

  /** ARN pattern of the objects the validation steps read and write (`<bucket ARN>/validation/*`). */
  validationObjectsArn(): string {
    return this.bucket.arnForObjects(`${VALIDATION_PREFIX}*`);
  }
}
