/**
 * Reads the deployment-target configuration at synth time. The same zod schema validates it here and in
 * the Lambdas (lambdas/shared/config.ts), so a target that synthesizes is a target the handlers accept.
 * Also validates the notifications settings (context `notifications`), which only the stack reads.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Node } from 'constructs';
import { z } from 'zod';
import { parseRolloutConfig, type RolloutConfig } from '../lambdas/shared/config';
import { ConfigurationError } from '../lambdas/shared/errors';

/** Context key holding the path of a JSON file with the configuration (`-c blueGreenConfigFile=targets.json`). */
export const CONFIG_FILE_CONTEXT_KEY = 'blueGreenConfigFile';
/** Context key holding the configuration itself: an object in cdk.json, or a JSON string given with `-c`. */
export const CONFIG_CONTEXT_KEY = 'blueGreen';

/**
 * The validated configuration, from (in order of precedence) the file named by context
 * `blueGreenConfigFile`, else context `blueGreen`. Throws a ConfigurationError naming the source, the target
 * and the field when the configuration is missing, unreadable or invalid, so `cdk synth` fails with it.
 *
 * @param node the node whose context is read (usually `app.node`)
 * @param cwd directory a relative `blueGreenConfigFile` is resolved against @default process.cwd()
 */
export function loadRolloutConfig(node: Node, cwd: string = process.cwd()): RolloutConfig {
  const configFile: unknown = node.tryGetContext(CONFIG_FILE_CONTEXT_KEY);
  if (configFile !== undefined && configFile !== null && configFile !== '') {
    if (typeof configFile !== 'string') {
      throw new ConfigurationError(`Context ${CONFIG_FILE_CONTEXT_KEY} must be a file path, got ${typeof configFile}`);
    }
    const filePath = path.resolve(cwd, configFile);
    return parseRolloutConfig(readJsonFile(filePath), `configuration in ${filePath} (context ${CONFIG_FILE_CONTEXT_KEY})`);
  }

  const inline: unknown = node.tryGetContext(CONFIG_CONTEXT_KEY);
  if (inline === undefined || inline === null || inline === '') {
    throw new ConfigurationError(
      `No deployment targets configured: set context "${CONFIG_CONTEXT_KEY}" in cdk.json ` +
        `or pass a file with "npx cdk synth -c ${CONFIG_FILE_CONTEXT_KEY}=targets.json"`,
    );
  }
  // `-c blueGreen='{"targets":[...]}'` arrives as a string; cdk.json gives the object itself.
  const raw = typeof inline === 'string' ? parseJson(inline, `context ${CONFIG_CONTEXT_KEY}`) : inline;
  return parseRolloutConfig(raw, `configuration in context ${CONFIG_CONTEXT_KEY}`);
}

function readJsonFile(filePath: string): unknown {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    throw new ConfigurationError(
      `Cannot read the configuration file ${filePath} (context ${CONFIG_FILE_CONTEXT_KEY}): ${(error as Error).message}`,
    );
  }
  return parseJson(text, `configuration file ${filePath}`);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`The ${what} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Context key holding the notifications settings (an object in cdk.json, or a JSON string given with `-c`). */
export const NOTIFICATIONS_CONTEXT_KEY = 'notifications';
/** @default 90 days of lifecycle events kept in the bus's archive, for replay */
export const DEFAULT_ARCHIVE_RETENTION_DAYS = 90;
/** An SNS topic ARN: `arn:<partition>:sns:<region>:<account>:<name>` (SNS topic names: letters, digits, `-`, `_`; `.fifo` suffix). */
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const NOTIFICATIONS_FIELDS = ['enabled', 'emails', 'topicArn', 'archiveRetentionDays'];

export const NotificationsConfigSchema = z
  .strictObject(
    {
      /** Notify people of the important lifecycle events (SNS). The bus and its archive exist either way. @default false */
      enabled: z.boolean({ error: 'must be true or false' }).default(false),
      /** Email addresses subscribed to the topic (each confirms by email before it receives anything). @default none */
      emails: z
        .array(z.email({ error: 'must be an email address' }), { error: 'must be a list of email addresses' })
        .default([])
        .superRefine((emails, context) => {
          // SNS keeps one subscription per endpoint and protocol: a repeated address is a typo, not a second subscription.
          const seen = new Map<string, number>();
          emails.forEach((email, index) => {
            const first = seen.get(email.toLowerCase());
            if (first !== undefined) context.addIssue({ code: 'custom', path: [index], message: `repeats emails[${first}] (${email})` });
            else seen.set(email.toLowerCase(), index);
          });
        }),
      /** An existing standard topic to notify instead of creating one (its policy must let EventBridge publish). @default a new topic */
      topicArn: z
        .string({ error: 'must be an SNS topic ARN' })
        .regex(SNS_TOPIC_ARN, 'must be an SNS topic ARN (arn:<partition>:sns:<region>:<account id>:<topic name>)')
        .refine((arn) => !arn.endsWith('.fifo'), 'must be a standard topic: a FIFO topic needs a message group id, which the notification rule does not set')
        .optional(),
      /** Days the bus's archive keeps events for replay; 0 keeps them forever (EventBridge RetentionDays). @default 90 */
      archiveRetentionDays: z
        .number({ error: 'must be a number of days' })
        .int('must be a whole number of days')
        .min(0, 'must be 0 (keep forever) or more')
        .default(DEFAULT_ARCHIVE_RETENTION_DAYS),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}; the fields are ${NOTIFICATIONS_FIELDS.join(', ')}` : undefined,
    },
  )
  .superRefine((config, context) => {
    // Settings that would do nothing are refused rather than ignored: the operator expects to be notified.
    if (config.enabled) return;
    if (config.emails.length > 0) context.addIssue({ code: 'custom', path: ['emails'], message: 'subscribes nobody while enabled is false: set enabled to true' });
    if (config.topicArn !== undefined) context.addIssue({ code: 'custom', path: ['topicArn'], message: 'is not notified while enabled is false: set enabled to true' });
  });

/** The validated notifications settings, defaults applied. */
export type NotificationsConfig = z.infer<typeof NotificationsConfigSchema>;
/** What a user writes (cdk.json context `notifications`). */
export type NotificationsConfigInput = z.input<typeof NotificationsConfigSchema>;

/** `notifications.emails[1]`: how messages name a field. */
function fieldPath(root: string, issuePath: readonly PropertyKey[]): string {
  return issuePath.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : `${text}.${String(key)}`), root);
}

/**
 * Validates the notifications settings (absent: the defaults, notifications off). A JSON string (how
 * `-c notifications=...` arrives) is parsed first. Throws a ConfigurationError naming each wrong field.
 */
export function parseNotificationsConfig(raw: unknown, source = `context ${NOTIFICATIONS_CONTEXT_KEY}`): NotificationsConfig {
  const value = typeof raw === 'string' ? (raw.trim() === '' ? undefined : parseJson(raw, source)) : raw;
  const result = NotificationsConfigSchema.safeParse(value ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `${fieldPath(NOTIFICATIONS_CONTEXT_KEY, issue.path)}: ${issue.message}`);
  throw new ConfigurationError(`Invalid notifications settings in ${source}:\n  ${lines.join('\n  ')}`);
}
