/**
 * Settings of the scheduled sweeper (lambdas/sweep-resources): whether it removes what it finds or only reports
 * it, how old a leftover must be before it is swept, and how often it runs. One schema serves synth time (cdk.json
 * context `sweeper`) and run time (the function's environment, see `sweeperEnvironment`).
 */
import { z } from 'zod';
import { ConfigurationError } from './errors';

/** Environment variable: `true` makes the sweeper report only. */
export const SWEEPER_DRY_RUN_ENV = 'SWEEPER_DRY_RUN';
/** Environment variable: the minimum age in seconds of what the sweeper removes. */
export const SWEEPER_MIN_AGE_SECONDS_ENV = 'SWEEPER_MIN_AGE_SECONDS';

/**
 * The youngest a leftover may be and still be swept. A rollout's resources exist a little while before its
 * active-rollout record shows that it owns them; an hour is far beyond that, so a young resource is never taken
 * for a leftover, even when an operator runs the sweeper by hand with a smaller age.
 */
export const MIN_SWEEP_AGE_SECONDS = 3600;
/** @default one day */
export const DEFAULT_SWEEP_AGE_SECONDS = 86_400;

/** Only resources (and stray variants' endpoints) unchanged for at least this long are swept. */
export const SweepAgeSecondsSchema = z
  .number({ error: 'must be a number of seconds' })
  .int('must be a whole number of seconds')
  .min(MIN_SWEEP_AGE_SECONDS, `must be at least ${MIN_SWEEP_AGE_SECONDS} (an hour)`)
  .max(31_536_000, 'must be at most 31536000 (a year)');

export const SweeperConfigSchema = z
  .object({
    /** Report what would be removed, remove nothing. @default false */
    dryRun: z.boolean().default(false),
    /**
     * How long an endpoint config, model or alarm must have existed (for an alarm: since its configuration last
     * changed; for a stray variant: since its endpoint last changed) before it is swept. @default 86400
     */
    minAgeSeconds: SweepAgeSecondsSchema.default(DEFAULT_SWEEP_AGE_SECONDS),
    /** Hours between two sweeps (EventBridge schedule `rate(N hours)`). @default 6 */
    scheduleHours: z.number().int().min(1).max(168).default(6),
  })
  .strict();

export type SweeperConfig = z.infer<typeof SweeperConfigSchema>;
/** What a user writes (cdk.json context `sweeper`): defaults not yet applied. */
export type SweeperConfigInput = z.input<typeof SweeperConfigSchema>;

/** What the sweeper function reads from its environment. */
export interface SweeperSettings {
  readonly dryRun: boolean;
  readonly minAgeSeconds: number;
}

/** Validates the sweeper's configuration; the error names each wrong field. */
export function parseSweeperConfig(raw: unknown, source = 'sweeper configuration'): SweeperConfig {
  const result = SweeperConfigSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `${['sweeper', ...issue.path].join('.')}: ${issue.message}`);
  throw new ConfigurationError(`Invalid ${source}:\n  ${lines.join('\n  ')}`);
}

/** The environment variables that carry `config` to the sweeper function. */
export function sweeperEnvironment(config: SweeperConfig): Record<string, string> {
  return { [SWEEPER_DRY_RUN_ENV]: String(config.dryRun), [SWEEPER_MIN_AGE_SECONDS_ENV]: String(config.minAgeSeconds) };
}

/** The sweeper's settings from its environment; unset variables take the defaults. */
export function sweeperSettingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): SweeperSettings {
  const dryRunText = env[SWEEPER_DRY_RUN_ENV];
  if (dryRunText !== undefined && dryRunText !== '' && dryRunText !== 'true' && dryRunText !== 'false') {
    throw new ConfigurationError(`${SWEEPER_DRY_RUN_ENV} must be 'true' or 'false', got '${dryRunText}'`);
  }
  const ageText = env[SWEEPER_MIN_AGE_SECONDS_ENV];
  let minAgeSeconds = DEFAULT_SWEEP_AGE_SECONDS;
  if (ageText !== undefined && ageText !== '') {
    const parsed = SweepAgeSecondsSchema.safeParse(/^\d+$/.test(ageText) ? Number(ageText) : Number.NaN);
    if (!parsed.success) throw new ConfigurationError(`${SWEEPER_MIN_AGE_SECONDS_ENV} must be a whole number of seconds, at least ${MIN_SWEEP_AGE_SECONDS}; got '${ageText}'`);
    minAgeSeconds = parsed.data;
  }
  return { dryRun: dryRunText === 'true', minAgeSeconds };
}
