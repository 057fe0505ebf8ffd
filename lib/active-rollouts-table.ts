/**
 * The active-rollouts table: one item per endpoint while a rollout watches green (lambdas/shared/rollout-record.ts).
 * An alarm event names only an alarm; this record is how the alarm handler finds the rollout, blue's weight to give
 * back and the task token to fail, and where rollback requests are recorded.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** The partition key: one active rollout per endpoint (the attribute rollout-record.ts writes). */
export const ACTIVE_ROLLOUTS_PARTITION_KEY = 'endpointName';
/**
 * The TTL attribute (epoch seconds). DynamoDB deletes an item some time after it passes, so that a record no
 * release deleted (an execution stopped from the console) cannot hold its endpoint forever. No record sets it yet.
 */
export const ACTIVE_ROLLOUTS_TTL_ATTRIBUTE = 'expiresAt';

/**
 * An on-demand table (a few writes per rollout: provisioned capacity would cost more idle than it saves), with
 * point-in-time recovery and encryption under the AWS-managed key, kept when the stack is deleted: its records
 * of rollback requests are part of the audit trail.
 */
export class ActiveRolloutsTable extends Construct {
  /** The table (the functions' ROLLOUTS_TABLE). */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: ACTIVE_ROLLOUTS_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: ACTIVE_ROLLOUTS_TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
