/**
 * The judge: reads every batch's paired samples back from the artifacts bucket, evaluates the gates, writes
 * the full report next to the samples and returns a compact verdict (the state machine's Choice reads it;
 * its summary becomes a failure's Cause, so it stays under 2 KB). Evaluating again (a retry) reads the same
 * samples and rewrites the same report.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { artifactsBucket, putJson, readJsonLines, reportKey, s3Uri } from '../shared/artifacts';
import { evaluateGates, overallVerdict } from '../shared/gates';
import { mapWithConcurrency } from '../shared/invoke';
import { recordLifecycleEvent, rolloutRef, type GateOutcome, type LifecycleSink } from '../shared/lifecycle-events';
import type { StepLogger } from '../shared/logger';
import { publishRolloutMetrics, ROLLOUT_METRIC_NAMES } from '../shared/metrics';
import { RolloutPlanSchema, type RolloutPlan } from '../shared/plan';
import { nowIso } from '../shared/time';
import type { GateName, GateResult, GateVerdict, PairedSample, RobustnessResult, ValidationReport, Verdict } from '../shared/validation-types';

export const STEP = 'judge-validation';

const InvocationOutcomeSchema = z.enum(['OK', 'MODEL_ERROR', 'CLIENT_ERROR', 'THROTTLED', 'TIMEOUT', 'FAILED']);

export const InvocationSampleSchema = z.object({
  outcome: InvocationOutcomeSchema,
  statusCode: z.number().int().optional(),
  latencyMs: z.number().min(0),
  score: z.number().optional(),
  prediction: z.unknown().optional(),
  errorName: z.string().optional(),
});

/** One line of a batch's samples object. */
export const PairedSampleSchema = z.object({
  index: z.number().int().min(0),
  green: InvocationSampleSchema,
  blue: InvocationSampleSchema.optional(),
  expected: z.unknown().optional(),
});

export const RobustnessResultSchema = z.object({
  probes: z.array(
    z.object({ name: z.string().min(1), outcome: InvocationOutcomeSchema, statusCode: z.number().int().optional(), latencyMs: z.number().min(0) }),
  ),
  recoveredAfterwards: z.boolean(),
});

/** What "Validate batch" returned, per batch (the Map state's result). */
export const BatchResultSchema = z.object({
  index: z.number().int().min(0),
  samples: z.number().int().min(0),
  samplesKey: z.string().min(1),
});

export const JudgeValidationInputSchema = z.object({
  plan: RolloutPlanSchema,
  batches: z.array(BatchResultSchema),
  robustness: RobustnessResultSchema,
  /** What "Warm up variants" returned; kept in the report as it is. */
  warmUp: z.object({ variants: z.array(z.looseObject({ variantName: z.string() })) }),
});
export type JudgeValidationInput = z.infer<typeof JudgeValidationInputSchema>;
export type BatchResult = z.infer<typeof BatchResultSchema>;

export interface JudgeValidationResult {
  readonly verdict: Verdict;
  /** One line per gate, then where the full report is; at most MAX_SUMMARY_BYTES. */
  readonly summary: string;
  /** s3://bucket/key of the full report. */
  readonly reportUri: string;
  readonly gates: readonly { readonly gate: GateName; readonly verdict: GateVerdict }[];
}

/** The full report: the gates' report plus what was validated, how, and when. */
export interface StoredValidationReport extends ValidationReport {
  readonly generatedAt: string;
  readonly endpointName: string;
  readonly deploymentId: string;
  readonly executionArn: string;
  readonly modelPackage: { readonly arn: string; readonly version: number };
  readonly green: { readonly variantName: string };
  readonly blue: { readonly variantName: string } | null;
  readonly source: { readonly kind: string; readonly s3Uri?: string; readonly contentType: string };
  readonly policy: RolloutPlan['validation']['gates'];
  readonly warmUp: JudgeValidationInput['warmUp'];
  readonly batches: readonly (BatchResult & { readonly samplesRead: number })[];
  readonly robustness: RobustnessResult;
}

/** The summary becomes a Step Functions Cause and a log line: it must stay short. */
export const MAX_SUMMARY_BYTES = 2000;
/** Batches read from S3 at once. */
const READ_CONCURRENCY = 4;

export interface JudgeValidationDependencies {
  readonly s3: S3Client;
  readonly logger: StepLogger;
  /** @default process.env (ARTIFACTS_BUCKET) */
  readonly env?: NodeJS.ProcessEnv;
  /** Where the Validation Verdict and the gate metrics go; absent: neither is recorded. */
  readonly lifecycle?: LifecycleSink;
}

/** Longest gate reason in the Validation Verdict event (the full one is in the report). */
export const MAX_EVENT_REASON_CHARS = 300;
/** CloudWatch's longest dimension value. */
const MAX_DIMENSION_VALUE_CHARS = 1024;

export async function judgeValidation(input: JudgeValidationInput, deps: JudgeValidationDependencies): Promise<JudgeValidationResult> {
  const { plan } = input;
  const bucket = artifactsBucket(deps.env);
  const perBatch = await mapWithConcurrency(input.batches, READ_CONCURRENCY, (batch) => readBatchSamples(deps.s3, bucket, batch));
  const samples = perBatch.flat();
  input.batches.forEach((batch, i) => {
    const read = perBatch[i]!.length;
    if (read !== batch.samples) {
      deps.logger.warn('A batch object holds another number of samples than its batch reported', { batch: batch.index, reported: batch.samples, read });
    }
  });

  const evaluated = evaluateGates({ samples, robustness: input.robustness, policy: plan.validation.gates, firstDeployment: plan.firstDeployment });
  const report = plan.payloads.kind === 'dataset' ? evaluated : withSinglePayloadCaveat(evaluated);

  const key = reportKey(plan.endpointName, plan.deploymentId);
  const reportUri = s3Uri(bucket, key);
  const stored: StoredValidationReport = {
    ...report,
    generatedAt: nowIso(),
    endpointName: plan.endpointName,
    deploymentId: plan.deploymentId,
    executionArn: plan.executionArn,
    modelPackage: { arn: plan.modelPackage.arn, version: plan.modelPackage.version },
    green: { variantName: plan.green.variantName },
    blue: plan.blue && !plan.firstDeployment ? { variantName: plan.blue.variantName } : null,
    source: { kind: plan.payloads.kind, ...('s3Uri' in plan.payloads ? { s3Uri: plan.payloads.s3Uri } : {}), contentType: plan.payloads.contentType },
    policy: plan.validation.gates,
    warmUp: input.warmUp,
    batches: input.batches.map((batch, i) => ({ ...batch, samplesRead: perBatch[i]!.length })),
    robustness: input.robustness,
  };
  await putJson(deps.s3, bucket, key, stored);
  // After the report is stored: the event points at it.
  if (deps.lifecycle) {
    await recordLifecycleEvent(deps.lifecycle, rolloutRef(plan), { type: 'ValidationVerdict', verdict: report.verdict, gates: gateOutcomes(report.gates), reportUri });
    publishGateMetrics(plan.endpointName, report.gates);
  }

  const header = `Validation ${report.verdict} on ${report.sampleCount} requests (${describeSourceShort(plan)}):`;
  return {
    verdict: report.verdict,
    summary: fitSummary(header, report.summary.split('\n'), `Full report: ${reportUri}`, MAX_SUMMARY_BYTES),
    reportUri,
    gates: report.gates.map((gate) => ({ gate: gate.gate, verdict: gate.verdict })),
  };
}

/** The gates as the Validation Verdict event carries them: checks without `passed`, reasons cut to MAX_EVENT_REASON_CHARS. */
export function gateOutcomes(gates: readonly GateResult[]): GateOutcome[] {
  return gates.map((gate) => ({
    gate: gate.gate,
    verdict: gate.verdict,
    samples: gate.samples,
    checks: gate.checks.map(({ name, statistic, threshold, comparison }) => ({ name, statistic, threshold, comparison })),
    reason: gate.reason.length <= MAX_EVENT_REASON_CHARS ? gate.reason : `${gate.reason.slice(0, MAX_EVENT_REASON_CHARS - 3)}...`,
  }));
}

/**
 * A CloudWatch dimension value from free text (a check's name): printable ASCII only (control characters become
 * spaces, other characters "?"), at most 1024 characters; undefined when nothing printable is left.
 */
export function dimensionValueOf(text: string): string | undefined {
  const printable = text.replace(/[\x00-\x1F\x7F]/g, ' ').replace(/[^\x20-\x7E]/g, '?');
  const value = printable.trim().slice(0, MAX_DIMENSION_VALUE_CHARS).trim();
  return value.length > 0 ? value : undefined;
}

/**
 * Per gate that ran (not SKIPPED): `GateFailed` (1 on FAIL, else 0) under dimension Gate = the gate, and `GateValue`
 * of each check with a statistic under Gate = "<gate>:<check name>" (a dashboard graphs a check against its threshold).
 */
export function publishGateMetrics(endpointName: string, gates: readonly GateResult[]): void {
  for (const gate of gates) {
    if (gate.verdict === 'SKIPPED') continue;
    publishRolloutMetrics(endpointName, [{ name: ROLLOUT_METRIC_NAMES.gateFailed, unit: 'Count', value: gate.verdict === 'FAIL' ? 1 : 0 }], { Gate: gate.gate });
    for (const check of gate.checks) {
      const dimension = dimensionValueOf(`${gate.gate}:${check.name}`);
      if (check.statistic === null || !Number.isFinite(check.statistic) || dimension === undefined) continue;
      publishRolloutMetrics(endpointName, [{ name: ROLLOUT_METRIC_NAMES.gateValue, unit: 'None', value: check.statistic }], { Gate: dimension });
    }
  }
}

/** A batch's samples, streamed from S3 and checked line by line. */
async function readBatchSamples(s3: S3Client, bucket: string, batch: BatchResult): Promise<PairedSample[]> {
  const samples: PairedSample[] = [];
  let line = 0;
  for await (const document of readJsonLines(s3, bucket, batch.samplesKey)) {
    line++;
    const parsed = PairedSampleSchema.safeParse(document);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(sample)'}: ${issue.message}`).join('; ');
      throw new Error(`${s3Uri(bucket, batch.samplesKey)} sample ${line} is not a paired sample: ${problems}`);
    }
    samples.push(parsed.data as PairedSample);
  }
  return samples;
}

/**
 * Without a dataset, every request is the same payload: green's and blue's outputs on one input say nothing
 * about how their outputs are distributed over inputs (a deterministic model gives one value, so any change
 * is "total" and no change proves nothing). The distribution gate cannot decide then: INCONCLUSIVE, never a
 * PASS or a FAIL, and the verdict follows.
 */
export function withSinglePayloadCaveat(report: ValidationReport): ValidationReport {
  const gates = report.gates.map((gate): GateResult => {
    if (gate.gate !== 'distribution' || (gate.verdict !== 'PASS' && gate.verdict !== 'FAIL')) return gate;
    return {
      ...gate,
      verdict: 'INCONCLUSIVE',
      reason: `one distinct input (a single payload, repeated): outputs cannot be compared as distributions; set policy.validation.datasetS3Uri (or disable gates.distribution). Measured: ${gate.reason}`,
    };
  });
  return {
    ...report,
    gates,
    verdict: overallVerdict(gates),
    summary: gates.map((gate) => `${gate.gate} ${gate.verdict}: ${gate.reason}`).join('\n'),
  };
}

function describeSourceShort(plan: RolloutPlan): string {
  switch (plan.payloads.kind) {
    case 'dataset':
      return `dataset ${plan.payloads.s3Uri}`;
    case 'inline':
      return 'the inline sample payload, repeated';
    case 'model-package-sample':
      return `the model package sample ${plan.payloads.s3Uri}, repeated`;
  }
}

/**
 * `header`, the lines and `footer`, one per line, within `maxBytes` (UTF-8): when too long, the longest lines
 * are shortened first (ending with "..."), so every gate keeps its verdict and the start of its reason.
 */
export function fitSummary(header: string, lines: readonly string[], footer: string, maxBytes: number): string {
  const join = (body: readonly string[]) => [header, ...body, footer].join('\n');
  const full = join(lines);
  if (Buffer.byteLength(full) <= maxBytes) return full;
  const fixed = Buffer.byteLength(header) + Buffer.byteLength(footer) + lines.length + 1; // newlines
  const budget = maxBytes - fixed;
  // The largest per-line cap whose lines fit the budget (binary search over the cap).
  let low = 0;
  let high = Math.max(0, ...lines.map((line) => Buffer.byteLength(line)));
  const total = (cap: number) => lines.reduce((sum, line) => sum + Math.min(Buffer.byteLength(line), cap), 0);
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (total(middle) <= budget) low = middle;
    else high = middle - 1;
  }
  const shortened = lines.map((line) => (Buffer.byteLength(line) <= low ? line : `${truncateBytes(line, Math.max(0, low - 3))}...`));
  const result = join(shortened);
  return Buffer.byteLength(result) <= maxBytes ? result : truncateBytes(result, maxBytes);
}

/** The longest prefix of `text` within `maxBytes` UTF-8 bytes, never splitting a character. */
function truncateBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // back off a continuation byte
  return bytes.subarray(0, end).toString('utf8');
}
