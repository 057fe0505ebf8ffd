/** One readable line per handler invocation, for the rehearsal's timeline. */
import type { LambdaInvocation } from './local-lambda';

type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function describeInvocation(invocation: LambdaInvocation): string {
  if (invocation.error) return `${invocation.error.errorType}: ${invocation.error.errorMessage}`;
  const out = (invocation.output ?? {}) as Loose;
  switch (invocation.step) {
    case 'resolve-rollout': {
      const green = out.green ?? {};
      const where = out.firstDeployment
        ? `endpoint ${out.endpointName} does not exist yet: first deployment`
        : `beside blue ${out.blue?.variantName} (${out.blue?.instanceCount} x ${out.blue?.instanceType}, weight ${out.blue?.weight})`;
      return `Plan ${out.deploymentId}: green ${green.variantName} (model package v${out.modelPackage?.version}) on ${green.instanceCount} x ${green.instanceType}, ${where}`;
    }
    case 'provision-green':
    case 'retire-blue':
      return `UpdateEndpoint requested: endpoint moves to config ${out.requestedEndpointConfigName}`;
    case 'check-endpoint':
      return out.inService ? `Endpoint InService on the requested config` : `Endpoint ${out.status}`;
    case 'smoke-check':
      return `Green ${out.invokedVariant} answered the sample payload in ${out.latencyMs} ms`;
    case 'warm-up':
      return ((out.variants ?? []) as Loose[])
        .map((v) => `${v.variantName} warm after ${v.requests} requests in ${Math.round(v.seconds)} s (p99 ${Math.round(v.firstWindowP99Ms)} -> ${Math.round(v.lastWindowP99Ms)} ms)`)
        .join('; ');
    case 'plan-validation':
      return `Validation plan: ${out.totalRequests} requests from the ${out.source === 'dataset' ? 'golden dataset' : 'sample payload'} in ${(out.batches ?? []).length} batch(es)`;
    case 'validate-batch':
      return `Batch ${out.index}: ${out.samples} paired samples stored`;
    case 'probe-robustness': {
      const probes = (out.probes ?? []) as Loose[];
      return `Robustness probes: ${probes.map((p) => `${p.name} -> ${p.outcome}${p.statusCode ? ` ${p.statusCode}` : ''}`).join(', ')}; recovered afterwards: ${out.recoveredAfterwards}`;
    }
    case 'judge-validation':
      return `Verdict ${out.verdict}. ${String(out.summary ?? '').split('\n').join(' | ')}`;
    case 'request-approval':
      return 'Operator asked for a decision';
    case 'shift-traffic':
      return `Traffic weights requested: green ${Math.round((out.greenShare ?? 0) * 1000) / 10}%`;
    case 'restore-blue':
      return `${out.action}: ${out.message ?? ''}`.trim();
    case 'delete-resources': {
      const deleted = (out.deleted ?? []) as string[];
      const retained = (out.retained ?? []) as Array<{ name: string; reason: string }>;
      const kept = retained.map((r) => `${r.name} (${r.reason})`).join(', ');
      return `Deleted ${deleted.length ? deleted.join(', ') : 'nothing'}${kept ? `; kept ${kept}` : ''}`;
    }
    default:
      return `${invocation.step} done`;
  }
}
