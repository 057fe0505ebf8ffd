/**
 * The dead-letter queue of an EventBridge target (and of a function's asynchronous invocations): encrypted, TLS
 * only, kept 14 days (the longest SQS allows: whatever lands here must be noticed and replayed by hand). One
 * place for what every trigger of this system needs, so the queues cannot drift apart.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * A dead-letter queue under `scope` (id `DeadLetterQueue`). `deadLetterOf` says whose failures it receives; it
 * becomes the reason of the cdk-nag AwsSolutions-SQS3 acknowledgement (a DLQ needs no DLQ of its own, and cdk-nag
 * does not see EventBridge's DeadLetterConfig).
 */
export function deadLetterQueue(scope: Construct, deadLetterOf: string): sqs.Queue {
  const queue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself the dead-letter queue of ${deadLetterOf}, which cdk-nag does not see`,
  });
  return queue;
}
