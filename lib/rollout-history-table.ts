/**
 * The rollout history table: the audit trail of every rollout (lambdas/shared/audit-trail.ts). Per endpoint, a
 * header per rollout, its lifecycle events and its outcome, each written once by a conditional put and never
 * overwritten. Kept forever: an audit trail that expires or disappears with the stack is no audit trail.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** The partition key: every record of an endpoint's rollouts (the attribute audit-trail.ts writes). */
export const ROLLOUT_HISTORY_PARTITION_KEY = 'endpointName';
/** The sort key: `ROLLOUT#<id>`, `EVENT#<id>#<type>[#<discriminator>]`, `OUTCOME#<id>` (audit-trail.ts). */
export const ROLLOUT_HISTORY_SORT_KEY = 'recordKey';

/**
 * An on-demand table (a few dozen writes per rollout), with point-in-time recovery, deletion protection and
 * encryption under the AWS-managed key, kept when the stack is deleted or the table replaced, with no TTL.
 */
export class RolloutHistoryTable extends Construct {
  /** The table (the functions' ROLLOUT_HISTORY_TABLE). */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: ROLLOUT_HISTORY_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ROLLOUT_HISTORY_SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Deleting the table takes two steps (turn this off, then delete): the trail cannot go by accident.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
