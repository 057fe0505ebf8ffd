/**
 * The SageMaker control plane, in memory: model packages, models, endpoint configs and endpoints, with
 * AWS's validation, error names and messages, and endpoint lifecycles that take (virtual) time.
 *
 * Endpoint status is computed lazily from `Date.now()`: a transition (Creating, Updating, Deleting)
 * records when it ends, and every access first completes the transitions that are due. A timer at each
 * transition's end only announces the change to `onEndpointChange` listeners on time.
 */
import { createHash } from 'node:crypto';
import type { Tag } from '@aws-sdk/client-sagemaker';
import { nowMs, scheduleAt } from './clock';
import { AwsServiceError, validationException } from './errors';
import { INSUFFICIENT_CAPACITY_REASON, type FaultInjector } from './faults';
import {
  addTagsInput,
  createEndpointConfigInput,
  createEndpointInput,
  createModelInput,
  deleteTagsInput,
  describeModelPackageInput,
  endpointConfigNameInput,
  endpointNameInput,
  listTagsInput,
  modelNameInput,
  MAX_CUSTOMER_METADATA_PROPERTIES,
  updateEndpointInput,
  updateEndpointWeightsAndCapacitiesInput,
  updateModelPackageInput,
  type ParsedContainerDefinition,
  type ParsedProductionVariant,
  type ParsedTag,
  RESOURCE_NAME_PATTERN,
} from './sagemaker-schemas';
import type { EndpointQuotaSource } from './servicequotas';
import { parseAwsInput } from './validation';
import { listEndpointConfigsInput, listEndpointsInput, listModelsInput, listPage } from './sagemaker-lists';

/** How long endpoint operations take, in virtual time. */
export interface EndpointTimings {
  /** CreateEndpoint: Creating -> InService (GPU endpoint creation). @default 480 */
  readonly createEndpointSeconds: number;
  /** UpdateEndpoint: a new fleet is deployed, then the old one deleted. @default 600 */
  readonly updateEndpointSeconds: number;
  /** UpdateEndpointWeightsAndCapacities, in place. @default 30 */
  readonly updateWeightsSeconds: number;
  /** DeleteEndpoint: Deleting -> gone. @default 90 */
  readonly deleteEndpointSeconds: number;
  /** Every control-plane call waits this long before answering. @default 40 */
  readonly apiLatencyMs: number;
}

export const DEFAULT_ENDPOINT_TIMINGS: EndpointTimings = {
  createEndpointSeconds: 480,
  updateEndpointSeconds: 600,
  updateWeightsSeconds: 30,
  deleteEndpointSeconds: 90,
  apiLatencyMs: 40,
};

export type ModelApprovalStatus = 'Approved' | 'Rejected' | 'PendingManualApproval';

/** A model package version to seed the registry with. */
export interface ModelPackageSeed {
  readonly groupName: string;
  readonly version: number;
  readonly approvalStatus: ModelApprovalStatus;
  /** Inference containers; `[]` means the package has no InferenceSpecification. */
  readonly containers: readonly { readonly image: string; readonly modelDataUrl?: string; readonly environment?: Record<string, string> }[];
  /** @default none */
  readonly supportedContentTypes?: readonly string[];
  /** @default none */
  readonly supportedRealtimeInferenceInstanceTypes?: readonly string[];
}

/** A model package's mutable state, as UpdateModelPackage leaves it. */
export interface ModelPackageSnapshot {
  readonly arn: string;
  readonly approvalStatus: ModelApprovalStatus;
  readonly approvalDescription?: string;
  /** CustomerMetadataProperties (a copy); `{}` when none is set. */
  readonly customerMetadataProperties: Readonly<Record<string, string>>;
  /** When UpdateModelPackage last changed it (virtual epoch ms); absent if it never did. */
  readonly lastModifiedTimeMs?: number;
}

/** An endpoint to seed, InService at once (or Failed, or SystemUpdating), with its models and endpoint config. */
export interface EndpointSeed {
  readonly endpointName: string;
  readonly endpointConfigName: string;
  /**
   * The endpoint's status once seeded. `Failed`: nothing serves (no fleet, no instance-time) and only
   * DeleteEndpoint is accepted. `SystemUpdating` (SageMaker patching it): the fleets serve, every change is
   * refused as in-progress, and it stays so for the whole run. @default 'InService'
   */
  readonly status?: SeededEndpointStatus;
  /** The FailureReason of a Failed endpoint (ignored otherwise). @default SEEDED_FAILURE_REASON */
  readonly failureReason?: string | undefined;
  /** Tags on the endpoint. @default none */
  /** Tags of the endpoint and of the models and endpoint config seeded with it. */
  readonly tags?: readonly Tag[];
  readonly variants: readonly {
    readonly variantName: string;
    /** Created if it does not exist yet (variants may share a model). */
    readonly modelName: string;
    readonly image: string;
    /** @default none */
    readonly modelDataUrl?: string;
    readonly instanceType: string;
    readonly instanceCount: number;
    readonly weight: number;
  }[];
}

/** What an endpoint serves now. */
export interface EndpointSnapshot {
  readonly status: string;
  /** The config the endpoint runs (while Updating: the old one; while Creating: the requested one). */
  readonly endpointConfigName: string;
  readonly failureReason?: string;
  /** Current weights and instance counts (DescribeEndpoint's CurrentWeight/CurrentInstanceCount). */
  readonly variants: readonly {
    readonly variantName: string;
    readonly modelName: string;
    readonly weight: number;
    readonly instanceType?: string;
    readonly instanceCount: number;
  }[];
}

/** A change of an endpoint's status, config or weights. */
export interface EndpointChange {
  readonly endpointName: string;
  /** The EndpointStatus after the change, or `Deleted` once the endpoint is gone. */
  readonly status: string;
  readonly endpointConfigName?: string;
  /** When the change happened (virtual time), which for a completed transition is when it ended. */
  readonly atMs: number;
  readonly message: string;
}

export type EndpointChangeListener = (change: EndpointChange) => void;

/**
 * Instance-time of one fleet at one instance count: instances count from the moment they start provisioning
 * (CreateEndpoint / UpdateEndpoint call, or a capacity increase) until they are released (the old fleets when
 * an UpdateEndpoint completes, the new ones when it rolls back, all of them when DeleteEndpoint completes).
 * A capacity change closes the segment and opens one with the new count.
 */
export interface InstanceSegment {
  readonly endpointName: string;
  readonly variantName: string;
  /** One deployment of a variant (an UpdateEndpoint deploys new fleets even for unchanged variants). */
  readonly fleetId: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly fromMs: number;
  /** Absent while the instances are still running. */
  readonly toMs?: number;
}

/** What Application Auto Scaling sees of a variant it is asked to register or scale. */
export interface ScalableVariantSnapshot {
  readonly endpointName: string;
  readonly endpointArn: string;
  readonly endpointStatus: string;
  /** Absent if the endpoint serves no variant of that name. */
  readonly variant?: {
    readonly instanceType: string;
    readonly currentInstanceCount: number;
    readonly desiredInstanceCount: number;
  };
}

/** What SageMaker asks Application Auto Scaling (wired with `useAutoScaling`). */
export interface ScalableTargetRegistry {
  /** Names of the endpoint's variants registered as scalable targets (endpoint names compare case-insensitively). */
  registeredVariants(endpointName: string): readonly string[];
  /** Deregisters the endpoint's scalable targets and their policies (DeleteEndpoint does it silently). */
  deregisterEndpoint(endpointName: string): void;
}

/** A deployed production variant: one fleet of instances serving one model. */
export interface ServingVariant {
  readonly variantName: string;
  readonly modelName: string;
  readonly instanceType: string;
  readonly acceleratorType?: string;
  currentWeight: number;
  desiredWeight: number;
  currentInstanceCount: number;
  desiredInstanceCount: number;
  /** The primary container's image and model data, fixed when the fleet was deployed. */
  readonly image: string;
  readonly modelDataUrl?: string;
  /** Invocations this fleet has served since it was deployed (drives the cold-start model). */
  invocations: number;
}

/** What the runtime needs to route an invocation. */
export interface ServingEndpoint {
  readonly endpointName: string;
  readonly endpointArn: string;
  readonly status: EndpointStatus;
  /** The fleet that answers invocations now: empty while Creating or once Failed. */
  readonly variants: ServingVariant[];
}

type EndpointStatus = 'Creating' | 'Updating' | 'InService' | 'Deleting' | 'Failed' | 'SystemUpdating';

/** The statuses an endpoint can be seeded in. */
export type SeededEndpointStatus = 'InService' | 'Failed' | 'SystemUpdating';

/** SageMaker's generic FailureReason, for an endpoint seeded Failed without one. */
export const SEEDED_FAILURE_REASON = 'Request to service failed. If failure persists after retry, contact customer support.';

type Transition =
  | { readonly kind: 'create'; readonly endsAtMs: number; readonly variants: ServingVariant[]; readonly failureReason?: string }
  | {
      readonly kind: 'update';
      readonly endsAtMs: number;
      readonly startedAtMs: number;
      readonly targetConfigName: string;
      readonly variants: ServingVariant[];
      readonly dataCaptureConfig: unknown;
      readonly failureReason?: string;
    }
  | { readonly kind: 'weights'; readonly endsAtMs: number }
  | { readonly kind: 'delete'; readonly endsAtMs: number };

interface StoredModelPackage {
  readonly arn: string;
  readonly groupName: string;
  readonly version: number;
  approvalStatus: ModelApprovalStatus;
  approvalDescription?: string;
  /** CustomerMetadataProperties, in the order the keys were first set. */
  customerMetadata: Map<string, string>;
  lastModifiedTimeMs?: number;
  readonly containers: ModelPackageSeed['containers'];
  readonly supportedContentTypes?: readonly string[];
  readonly supportedRealtimeInferenceInstanceTypes?: readonly string[];
  readonly creationTimeMs: number;
  tags: ParsedTag[];
}

interface StoredModel {
  readonly name: string;
  readonly arn: string;
  readonly input: ReturnType<typeof createModelInput.parse>;
  /** The primary container's image and model data (resolved through its model package, if any). */
  readonly image: string;
  readonly modelDataUrl?: string;
  readonly creationTimeMs: number;
  tags: ParsedTag[];
}

interface StoredEndpointConfig {
  readonly name: string;
  readonly arn: string;
  readonly variants: (ParsedProductionVariant & { readonly InitialVariantWeight: number })[];
  readonly dataCaptureConfig: unknown;
  readonly kmsKeyId?: string;
  readonly creationTimeMs: number;
  tags: ParsedTag[];
}

interface StoredEndpoint {
  readonly name: string;
  readonly arn: string;
  readonly creationTimeMs: number;
  lastModifiedTimeMs: number;
  status: EndpointStatus;
  failureReason?: string;
  /** The config the endpoint runs; while Creating or Failed after creation, the requested one. */
  configName: string;
  variants: ServingVariant[];
  dataCaptureConfig: unknown;
  transition?: Transition;
  tags: ParsedTag[];
}

export interface SageMakerSimulationOptions {
  readonly region: string;
  readonly accountId: string;
  readonly timings: EndpointTimings;
  readonly faults: FaultInjector;
  /** Whether the container serving this model data never passes its /ping health check. */
  readonly failsHealthCheck: (modelDataUrl: string | undefined) => boolean;
}

const IN_PROGRESS_STATUSES: ReadonlySet<string> = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);
const SEEDED_EXECUTION_ROLE = 'simulated-sagemaker-execution-role';
const INSTANCE_TYPE = /^ml\.[a-z0-9-]+\.[a-z0-9]+$/;

/** SageMaker names are case-insensitive: resources are keyed (and ARNs formed) by the lowercase name. */
const key = (name: string): string => name.toLowerCase();
const epochSeconds = (ms: number): number => ms / 1000;

export class SageMakerSimulation {
  private readonly modelPackages = new Map<string, StoredModelPackage>();
  private readonly models = new Map<string, StoredModel>();
  private readonly endpointConfigs = new Map<string, StoredEndpointConfig>();
  private readonly endpoints = new Map<string, StoredEndpoint>();
  private readonly listeners: EndpointChangeListener[] = [];
  private readonly region: string;
  private readonly accountId: string;
  private readonly timings: EndpointTimings;
  private readonly faults: FaultInjector;
  private readonly failsHealthCheck: (modelDataUrl: string | undefined) => boolean;
  private scalableTargets: ScalableTargetRegistry | undefined;
  private endpointQuotas: EndpointQuotaSource | undefined;
  /** Instances of each type the region can hold for the account (setInstanceCapacity); a type not listed is unlimited. */
  private readonly instanceCapacity = new Map<string, number>();
  /** Instance-time, in the order segments opened. */
  private readonly segments: { -readonly [K in keyof InstanceSegment]: InstanceSegment[K] }[] = [];
  /** Index in `segments` of each running fleet's open segment. */
  private readonly openSegments = new Map<ServingVariant, number>();
  private fleetSequence = 0;

  /** The operations this simulation implements, by API name. */
  private readonly operations: Readonly<Record<string, (input: unknown) => object>> = {
    DescribeModelPackage: (input) => this.describeModelPackage(input),
    UpdateModelPackage: (input) => this.updateModelPackage(input),
    CreateModel: (input) => this.createModel(input),
    DescribeModel: (input) => this.describeModel(input),
    DeleteModel: (input) => this.deleteModel(input),
    CreateEndpointConfig: (input) => this.createEndpointConfig(input),
    DescribeEndpointConfig: (input) => this.describeEndpointConfig(input),
    DeleteEndpointConfig: (input) => this.deleteEndpointConfig(input),
    CreateEndpoint: (input) => this.createEndpoint(input),
    DescribeEndpoint: (input) => this.describeEndpoint(input),
    UpdateEndpoint: (input) => this.updateEndpoint(input),
    UpdateEndpointWeightsAndCapacities: (input) => this.updateEndpointWeightsAndCapacities(input),
    DeleteEndpoint: (input) => this.deleteEndpoint(input),
    ListTags: (input) => this.listTags(input),
    AddTags: (input) => this.addTags(input),
    DeleteTags: (input) => this.deleteTags(input),
    ListEndpointConfigs: (input) => this.listOperation('EndpointConfigs', input),
    ListModels: (input) => this.listOperation('Models', input),
    ListEndpoints: (input) => this.listOperation('Endpoints', input),
  };

  constructor(options: SageMakerSimulationOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.timings = options.timings;
    this.faults = options.faults;
    this.failsHealthCheck = options.failsHealthCheck;
  }

  /** Whether `operation` is one this simulation implements. */
  supports(operation: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.operations, operation);
  }

  /**
   * Executes one API operation on its decoded JSON input and returns the JSON output (timestamps in
   * epoch seconds). Throws AwsServiceError as AWS would answer. Synchronous: the caller (the transport)
   * adds the API latency.
   */
  execute(operation: string, input: unknown): object {
    const run = this.supports(operation) ? this.operations[operation] : undefined;
    if (!run) {
      throw new AwsServiceError('UnknownOperationException', `The requested operation ${operation} is not recognized by the service.`);
    }
    this.settleTransitions();
    return run(input);
  }

  // ---------------------------------------------------------------- seeding and inspection

  /** Registers (or replaces) a model package version; returns its ARN. */
  putModelPackage(seed: ModelPackageSeed): string {
    if (!RESOURCE_NAME_PATTERN.test(seed.groupName)) throw new Error(`invalid model package group name "${seed.groupName}"`);
    if (!Number.isInteger(seed.version) || seed.version < 1) throw new Error(`invalid model package version ${seed.version}`);
    const arn = this.modelPackageArn(seed.groupName, seed.version);
    const previous = this.modelPackages.get(arn);
    this.modelPackages.set(arn, {
      arn,
      groupName: seed.groupName,
      version: seed.version,
      approvalStatus: seed.approvalStatus,
      containers: seed.containers.map((container) => ({ ...container })),
      supportedContentTypes: seed.supportedContentTypes,
      supportedRealtimeInferenceInstanceTypes: seed.supportedRealtimeInferenceInstanceTypes,
      creationTimeMs: previous?.creationTimeMs ?? nowMs(),
      tags: previous?.tags ?? [],
      // Re-seeding a version replaces what it serves and its approval, not what UpdateModelPackage wrote on it.
      customerMetadata: previous?.customerMetadata ?? new Map(),
      ...(previous?.approvalDescription !== undefined ? { approvalDescription: previous.approvalDescription } : {}),
      ...(previous?.lastModifiedTimeMs !== undefined ? { lastModifiedTimeMs: previous.lastModifiedTimeMs } : {}),
    });
    return arn;
  }

  /** A model package's approval and metadata, by ARN, `group/version` or name; undefined if it does not exist. */
  modelPackageSnapshot(nameOrArn: string): ModelPackageSnapshot | undefined {
    let modelPackage: StoredModelPackage;
    try {
      modelPackage = this.requireModelPackage(nameOrArn);
    } catch {
      return undefined;
    }
    return {
      arn: modelPackage.arn,
      approvalStatus: modelPackage.approvalStatus,
      ...(modelPackage.approvalDescription !== undefined ? { approvalDescription: modelPackage.approvalDescription } : {}),
      customerMetadataProperties: Object.fromEntries(modelPackage.customerMetadata),
      ...(modelPackage.lastModifiedTimeMs !== undefined ? { lastModifiedTimeMs: modelPackage.lastModifiedTimeMs } : {}),
    };
  }

  /**
   * Creates the endpoint's models (those that do not exist yet), its endpoint config and the endpoint,
   * InService at once with warm fleets. Goes through the same validation as the API.
   */
  seedEndpoint(seed: EndpointSeed): void {
    const role = `arn:aws:iam::${this.accountId}:role/${SEEDED_EXECUTION_ROLE}`;
    for (const variant of seed.variants) {
      if (this.models.has(key(variant.modelName))) continue;
      this.createModel({
        ModelName: variant.modelName,
        ExecutionRoleArn: role,
        PrimaryContainer: { Image: variant.image, ...(variant.modelDataUrl ? { ModelDataUrl: variant.modelDataUrl } : {}) },
        ...(seed.tags ? { Tags: seed.tags } : {}),
      });
    }
    this.createEndpointConfig({
      EndpointConfigName: seed.endpointConfigName,
      ProductionVariants: seed.variants.map((variant) => ({
        VariantName: variant.variantName,
        ModelName: variant.modelName,
        InstanceType: variant.instanceType,
        InitialInstanceCount: variant.instanceCount,
        InitialVariantWeight: variant.weight,
      })),
      ...(seed.tags ? { Tags: seed.tags } : {}),
    });
    this.createEndpoint({ EndpointName: seed.endpointName, EndpointConfigName: seed.endpointConfigName, Tags: seed.tags }, false);
    const endpoint = this.endpoints.get(key(seed.endpointName))!;
    const creation = endpoint.transition as Extract<Transition, { kind: 'create' }>;
    endpoint.transition = undefined;
    endpoint.status = seed.status ?? 'InService';
    endpoint.failureReason = undefined;
    if (endpoint.status === 'Failed') {
      // As after a failed creation: no fleet runs (or bills), DescribeEndpoint lists no variants.
      endpoint.failureReason = seed.failureReason ?? SEEDED_FAILURE_REASON;
      this.releaseFleets(creation.variants, nowMs());
      this.emit(endpoint, nowMs(), `Seeded Failed on ${endpoint.configName}: ${endpoint.failureReason}`);
      return;
    }
    // A seeded endpoint has been serving for a while: its fleets are warm.
    for (const variant of creation.variants) variant.invocations = Number.POSITIVE_INFINITY;
    endpoint.variants = creation.variants;
    this.emit(endpoint, nowMs(), `Seeded ${endpoint.status} on ${endpoint.configName}`);
  }

  /** What the endpoint serves now, or undefined if it does not exist. */
  endpointSnapshot(name: string): EndpointSnapshot | undefined {
    this.settleTransitions();
    const endpoint = this.endpoints.get(key(name));
    if (!endpoint) return undefined;
    return {
      status: endpoint.status,
      endpointConfigName: endpoint.configName,
      ...(endpoint.failureReason !== undefined ? { failureReason: endpoint.failureReason } : {}),
      variants: endpoint.variants.map((variant) => ({
        variantName: variant.variantName,
        modelName: variant.modelName,
        weight: variant.currentWeight,
        instanceType: variant.instanceType,
        instanceCount: variant.currentInstanceCount,
      })),
    };
  }

  listModels(): { name: string; tags: Tag[] }[] {
    return [...this.models.values()].map((model) => ({ name: model.name, tags: model.tags.map((tag) => ({ ...tag })) }));
  }

  listEndpointConfigs(): { name: string; tags: Tag[] }[] {
    return [...this.endpointConfigs.values()].map((config) => ({ name: config.name, tags: config.tags.map((tag) => ({ ...tag })) }));
  }

  /** Calls `listener` on every change of an endpoint's status, config or weights. Listeners must not throw. */
  onEndpointChange(listener: EndpointChangeListener): void {
    this.listeners.push(listener);
  }

  /** The endpoint as the runtime sees it, or undefined if it does not exist. */
  servingEndpoint(name: string): ServingEndpoint | undefined {
    this.settleTransitions();
    const endpoint = this.endpoints.get(key(name));
    if (!endpoint) return undefined;
    return { endpointName: endpoint.name, endpointArn: endpoint.arn, status: endpoint.status, variants: endpoint.variants };
  }

  /** Instance-time of every fleet so far (copies), in the order the segments opened. */
  instanceSegments(): InstanceSegment[] {
    this.settleTransitions();
    return this.segments.map((segment) => ({ ...segment }));
  }

  // ---------------------------------------------------------------- Application Auto Scaling interplay

  /** Lets UpdateEndpoint and DeleteEndpoint consult (and DeleteEndpoint clean up) the registered scalable targets. */
  useAutoScaling(registry: ScalableTargetRegistry): void {
    this.scalableTargets = registry;
  }

  // ---------------------------------------------------------------- quotas and regional capacity

  /**
   * Lets CreateEndpoint and UpdateEndpoint enforce the account's "<type> for endpoint usage" quotas: a request whose
   * added instances of a type would take the account's instances of that type (every endpoint's running and
   * provisioning fleets; during an update, both the old and the new fleets) past the quota is refused with
   * ResourceLimitExceeded, nothing changed.
   */
  useServiceQuotas(source: EndpointQuotaSource): void {
    this.endpointQuotas = source;
  }

  /**
   * How many instances of `instanceType` the region can hold for the account: a CreateEndpoint/UpdateEndpoint whose
   * added instances of the type would go past it is accepted, runs its full duration, then fails (creation) or rolls
   * back (update) with INSUFFICIENT_CAPACITY_REASON, as SageMaker does when it cannot provision the fleet. 0: the type
   * cannot be had at all. A type never set is unlimited.
   */
  setInstanceCapacity(instanceType: string, instances: number): void {
    if (!INSTANCE_TYPE.test(instanceType)) throw new Error(`invalid instance type "${instanceType}"`);
    if (!(Number.isInteger(instances) && instances >= 0)) throw new RangeError(`capacity of ${instanceType} must be a non-negative integer, got ${instances}`);
    this.instanceCapacity.set(instanceType, instances);
  }

  /** Instances of `instanceType` held now by every fleet of every endpoint (running or being provisioned). */
  instancesInUse(instanceType: string): number {
    this.settleTransitions();
    return this.instancesHeld(instanceType);
  }

  private instancesHeld(instanceType: string): number {
    let total = 0;
    for (const index of this.openSegments.values()) {
      const segment = this.segments[index]!;
      if (segment.instanceType === instanceType) total += segment.instanceCount;
    }
    return total;
  }

  /**
   * Instances of each type that `fleets` add to what `replaced` (the fleets they take over from) hold: an
   * UpdateEndpoint that keeps blue's fleet size and adds green adds only green's instances.
   */
  private addedInstances(fleets: readonly ServingVariant[], replaced: readonly ServingVariant[]): Map<string, number> {
    const added = new Map<string, number>();
    for (const fleet of fleets) added.set(fleet.instanceType, (added.get(fleet.instanceType) ?? 0) + fleet.desiredInstanceCount);
    for (const fleet of replaced) {
      const held = Math.max(fleet.currentInstanceCount, fleet.desiredInstanceCount);
      if (added.has(fleet.instanceType)) added.set(fleet.instanceType, added.get(fleet.instanceType)! - held);
    }
    for (const [type, count] of added) if (count <= 0) added.delete(type);
    return added;
  }

  /** ResourceLimitExceeded, worded as SageMaker words it, when `added` would go past a type's endpoint-usage quota. */
  private checkEndpointUsageQuotas(added: ReadonlyMap<string, number>): void {
    for (const [instanceType, delta] of added) {
      const quota = this.endpointQuotas?.endpointQuota(instanceType);
      if (!quota) continue;
      const used = this.instancesHeld(instanceType);
      if (used + delta > quota.value) {
        throw new AwsServiceError(
          'ResourceLimitExceeded',
          `The account-level service limit '${quota.quotaName}' is ${quota.value} Instances, with current utilization of ${used} Instances ` +
            `and a request delta of ${delta} Instances. Please use AWS Service Quotas to request an increase to this quota.`,
        );
      }
    }
  }

  /** INSUFFICIENT_CAPACITY_REASON when the region cannot hold `added` on top of what the account holds. */
  private capacityFailure(added: ReadonlyMap<string, number>): string | undefined {
    for (const [instanceType, delta] of added) {
      const capacity = this.instanceCapacity.get(instanceType);
      if (capacity !== undefined && this.instancesHeld(instanceType) + delta > capacity) return INSUFFICIENT_CAPACITY_REASON;
    }
    return undefined;
  }

  /** The endpoint and variant as auto scaling sees them, or undefined if the endpoint does not exist. */
  scalableVariant(endpointName: string, variantName: string): ScalableVariantSnapshot | undefined {
    this.settleTransitions();
    const endpoint = this.endpoints.get(key(endpointName));
    if (!endpoint) return undefined;
    const variant = endpoint.variants.find((candidate) => candidate.variantName === variantName);
    return {
      endpointName: endpoint.name,
      endpointArn: endpoint.arn,
      endpointStatus: endpoint.status,
      ...(variant
        ? {
            variant: {
              instanceType: variant.instanceType,
              currentInstanceCount: variant.currentInstanceCount,
              desiredInstanceCount: variant.desiredInstanceCount,
            },
          }
        : {}),
    };
  }

  /**
   * Applies an auto scaling decision as Application Auto Scaling does, through UpdateEndpointWeightsAndCapacities
   * on the variant's DesiredInstanceCount: Updating for updateWeightsSeconds, then InService with the new count.
   * Only an InService endpoint scales (auto scaling is paused during updates). Returns whether the change started.
   */
  applyScalingCapacity(endpointName: string, variantName: string, instanceCount: number, reason: string): boolean {
    this.settleTransitions();
    const endpoint = this.endpoints.get(key(endpointName));
    if (!endpoint || endpoint.status !== 'InService') return false;
    const variant = endpoint.variants.find((candidate) => candidate.variantName === variantName);
    if (!variant || variant.currentInstanceCount === instanceCount || !(Number.isInteger(instanceCount) && instanceCount >= 1)) return false;
    const from = variant.currentInstanceCount;
    variant.desiredInstanceCount = instanceCount;
    this.startWeightsTransition(endpoint, `Application Auto Scaling: ${variantName} ${from} -> ${instanceCount} instances (${reason})`);
    return true;
  }

  /** Names of the endpoint's variants that are registered scalable targets. */
  private registeredVariants(endpoint: StoredEndpoint): ReadonlySet<string> {
    return new Set(this.scalableTargets?.registeredVariants(endpoint.name) ?? []);
  }

  // ---------------------------------------------------------------- fleet accounting

  private openFleets(endpointName: string, fleets: readonly ServingVariant[], atMs: number): void {
    for (const fleet of fleets) {
      this.fleetSequence += 1;
      this.openSegments.set(fleet, this.segments.length);
      this.segments.push({
        endpointName,
        variantName: fleet.variantName,
        fleetId: `${endpointName}/${fleet.variantName}#${this.fleetSequence}`,
        instanceType: fleet.instanceType,
        instanceCount: fleet.currentInstanceCount,
        fromMs: atMs,
      });
    }
  }

  /** Closes the fleet's open segment and opens one with `instanceCount` (no-op if the count is unchanged). */
  private resizeFleet(fleet: ServingVariant, instanceCount: number, atMs: number): void {
    const index = this.openSegments.get(fleet);
    if (index === undefined) return;
    const open = this.segments[index]!;
    if (open.instanceCount === instanceCount) return;
    const { endpointName, variantName, fleetId, instanceType } = open;
    open.toMs = atMs;
    this.openSegments.set(fleet, this.segments.length);
    this.segments.push({ endpointName, variantName, fleetId, instanceType, instanceCount, fromMs: atMs });
  }

  private releaseFleets(fleets: readonly ServingVariant[], atMs: number): void {
    for (const fleet of fleets) {
      const index = this.openSegments.get(fleet);
      if (index === undefined) continue;
      this.segments[index]!.toMs = atMs;
      this.openSegments.delete(fleet);
    }
  }

  // ---------------------------------------------------------------- ARNs and lookups

  private arn(resourceType: string, name: string): string {
    return `arn:aws:sagemaker:${this.region}:${this.accountId}:${resourceType}/${key(name)}`;
  }
  private modelArn = (name: string): string => this.arn('model', name);
  private endpointConfigArn = (name: string): string => this.arn('endpoint-config', name);
  private endpointArn = (name: string): string => this.arn('endpoint', name);
  private modelPackageArn(groupName: string, version: number): string {
    return `${this.arn('model-package', groupName)}/${version}`;
  }

  private requireModel(name: string): StoredModel {
    const model = this.models.get(key(name));
    if (!model) throw validationException(`Could not find model "${this.modelArn(name)}".`);
    return model;
  }

  private requireEndpointConfig(name: string): StoredEndpointConfig {
    const config = this.endpointConfigs.get(key(name));
    if (!config) throw validationException(`Could not find endpoint configuration "${this.endpointConfigArn(name)}".`);
    return config;
  }

  private requireEndpoint(name: string): StoredEndpoint {
    const endpoint = this.endpoints.get(key(name));
    if (!endpoint) throw validationException(`Could not find endpoint "${this.endpointArn(name)}".`);
    return endpoint;
  }

  /** A model package by ARN, `group/version`, or (unversioned) name. */
  private requireModelPackage(nameOrArn: string): StoredModelPackage {
    const match = /^(?:arn:[^:]+:sagemaker:([^:]*):(\d{12}):model-package\/)?([^/]+)(?:\/(\d+))?$/.exec(nameOrArn);
    const sameAccount = match && (match[1] === undefined || (match[1] === this.region && match[2] === this.accountId));
    const arn = match
      ? `${this.arn('model-package', match[3]!)}${match[4] !== undefined ? `/${Number(match[4])}` : ''}`
      : nameOrArn;
    const modelPackage = sameAccount ? this.modelPackages.get(arn) : undefined;
    if (!modelPackage) throw validationException(`ModelPackage ${nameOrArn.startsWith('arn:') ? nameOrArn : arn} does not exist.`);
    return modelPackage;
  }

  /** Rejects any mutation of an endpoint that is not InService. */
  private requireMutable(endpoint: StoredEndpoint): void {
    if (IN_PROGRESS_STATUSES.has(endpoint.status)) {
      throw validationException(`Cannot update in-progress endpoint "${endpoint.arn}".`);
    }
    if (endpoint.status === 'Failed') {
      throw validationException(
        `Cannot update endpoint "${endpoint.arn}" because it is in Failed status. Only DeleteEndpoint is allowed: delete the endpoint and create it again.`,
      );
    }
  }

  // ---------------------------------------------------------------- model packages and models

  private describeModelPackage(rawInput: unknown): object {
    const input = parseAwsInput(describeModelPackageInput, rawInput);
    const modelPackage = this.requireModelPackage(input.ModelPackageName);
    return {
      ModelPackageName: modelPackage.groupName,
      ModelPackageGroupName: modelPackage.groupName,
      ModelPackageVersion: modelPackage.version,
      ModelPackageArn: modelPackage.arn,
      CreationTime: epochSeconds(modelPackage.creationTimeMs),
      ...(modelPackage.containers.length > 0
        ? {
            InferenceSpecification: {
              Containers: modelPackage.containers.map((container) => ({
                Image: container.image,
                ...(container.modelDataUrl !== undefined ? { ModelDataUrl: container.modelDataUrl } : {}),
                ...(container.environment !== undefined ? { Environment: { ...container.environment } } : {}),
              })),
              ...(modelPackage.supportedContentTypes ? { SupportedContentTypes: [...modelPackage.supportedContentTypes] } : {}),
              ...(modelPackage.supportedRealtimeInferenceInstanceTypes
                ? { SupportedRealtimeInferenceInstanceTypes: [...modelPackage.supportedRealtimeInferenceInstanceTypes] }
                : {}),
            },
          }
        : {}),
      ModelPackageStatus: 'Completed',
      ModelPackageStatusDetails: { ValidationStatuses: [] },
      ModelApprovalStatus: modelPackage.approvalStatus,
      ...(modelPackage.approvalDescription !== undefined ? { ApprovalDescription: modelPackage.approvalDescription } : {}),
      ...(modelPackage.customerMetadata.size > 0 ? { CustomerMetadataProperties: Object.fromEntries(modelPackage.customerMetadata) } : {}),
      ...(modelPackage.lastModifiedTimeMs !== undefined ? { LastModifiedTime: epochSeconds(modelPackage.lastModifiedTimeMs) } : {}),
    };
  }

  /**
   * UpdateModelPackage: the approval (status and description) and the customer metadata (properties set or replaced,
   * then properties removed). Members that would change what the package serves or describes elsewhere are refused.
   */
  private updateModelPackage(rawInput: unknown): object {
    const input = parseAwsInput(updateModelPackageInput, rawInput);
    for (const member of ['AdditionalInferenceSpecificationsToAdd', 'InferenceSpecification', 'SourceUri', 'ModelCard', 'ModelLifeCycle'] as const) {
      if (input[member] !== undefined) throw notSimulated(member);
    }
    const modelPackage = this.requireModelPackage(input.ModelPackageArn);
    const toSet = input.CustomerMetadataProperties ?? {};
    const toRemove = new Set(input.CustomerMetadataPropertiesToRemove ?? []);
    // Which of the two wins is not documented: the simulation refuses the request rather than guess.
    const both = Object.keys(toSet).filter((metadataKey) => toRemove.has(metadataKey));
    if (both.length > 0) {
      throw validationException(
        `CustomerMetadataProperties and CustomerMetadataPropertiesToRemove both name ${both.join(', ')}: the SageMaker simulation does not know which wins.`,
      );
    }
    const metadata = new Map(modelPackage.customerMetadata);
    for (const [metadataKey, value] of Object.entries(toSet)) metadata.set(metadataKey, value);
    for (const metadataKey of toRemove) metadata.delete(metadataKey);
    // The per-request limit also bounds what a package holds (the simulation's reading of the map's 50-entry limit).
    if (metadata.size > MAX_CUSTOMER_METADATA_PROPERTIES) {
      throw validationException(
        `Model package ${modelPackage.arn} cannot have more than ${MAX_CUSTOMER_METADATA_PROPERTIES} CustomerMetadataProperties (this update would leave ${metadata.size}).`,
      );
    }
    modelPackage.customerMetadata = metadata;
    if (input.ModelApprovalStatus !== undefined) modelPackage.approvalStatus = input.ModelApprovalStatus;
    if (input.ApprovalDescription !== undefined) modelPackage.approvalDescription = input.ApprovalDescription;
    modelPackage.lastModifiedTimeMs = nowMs();
    return { ModelPackageArn: modelPackage.arn };
  }

  /** The image and model data a container serves, resolved through its model package if it names one. */
  private resolveContainer(container: ParsedContainerDefinition, memberPath: string): { image: string; modelDataUrl?: string } {
    if (container.ModelPackageName !== undefined) {
      const modelPackage = this.requireModelPackage(container.ModelPackageName);
      const packaged = modelPackage.containers[0];
      if (!packaged) throw validationException(`ModelPackage ${modelPackage.arn} has no InferenceSpecification.`);
      return { image: container.Image ?? packaged.image, modelDataUrl: container.ModelDataUrl ?? packaged.modelDataUrl };
    }
    if (container.Image === undefined) {
      throw validationException(`${memberPath}: either Image or ModelPackageName must be specified.`);
    }
    return { image: container.Image, modelDataUrl: container.ModelDataUrl };
  }

  private createModel(rawInput: unknown): object {
    const input = parseAwsInput(createModelInput, rawInput);
    const tags = uniqueTags(input.Tags);
    const hasContainers = input.Containers !== undefined && input.Containers.length > 0;
    if (input.PrimaryContainer === undefined && !hasContainers) {
      throw validationException('Either PrimaryContainer or Containers must be specified.');
    }
    if (input.PrimaryContainer !== undefined && hasContainers) {
      throw validationException('PrimaryContainer and Containers cannot both be specified.');
    }
    const containers = input.PrimaryContainer ? [input.PrimaryContainer] : input.Containers!;
    const resolved = containers.map((container, index) =>
      this.resolveContainer(container, input.PrimaryContainer ? 'PrimaryContainer' : `Containers.${index + 1}`),
    );
    if (this.models.has(key(input.ModelName))) {
      throw validationException(`Cannot create already existing model "${this.modelArn(input.ModelName)}".`);
    }
    const model: StoredModel = {
      name: input.ModelName,
      arn: this.modelArn(input.ModelName),
      input,
      image: resolved[0]!.image,
      modelDataUrl: resolved[0]!.modelDataUrl,
      creationTimeMs: nowMs(),
      tags,
    };
    this.models.set(key(model.name), model);
    return { ModelArn: model.arn };
  }

  private describeModel(rawInput: unknown): object {
    const input = parseAwsInput(modelNameInput, rawInput);
    const model = this.requireModel(input.ModelName);
    const { Tags: _tags, ...described } = model.input;
    return { ...structuredClone(described), ModelName: model.name, ModelArn: model.arn, CreationTime: epochSeconds(model.creationTimeMs) };
  }

  private deleteModel(rawInput: unknown): object {
    const input = parseAwsInput(modelNameInput, rawInput);
    const model = this.requireModel(input.ModelName);
    const user = [...this.endpoints.values()].find((endpoint) =>
      this.variantsInvolving(endpoint).some((variant) => key(variant.modelName) === key(model.name)),
    );
    if (user) throw validationException(`Cannot delete model "${model.arn}": it is in use by endpoint "${user.name}".`);
    this.models.delete(key(model.name));
    return {};
  }

  // ---------------------------------------------------------------- endpoint configs

  private createEndpointConfig(rawInput: unknown): object {
    const input = parseAwsInput(createEndpointConfigInput, rawInput);
    const tags = uniqueTags(input.Tags);
    for (const unsupported of ['AsyncInferenceConfig', 'ExplainerConfig', 'ShadowProductionVariants'] as const) {
      if (input[unsupported] !== undefined) throw notSimulated(unsupported);
    }
    const seenVariants = new Set<string>();
    for (const variant of input.ProductionVariants) {
      if (variant.ServerlessConfig !== undefined) throw notSimulated('ProductionVariants.ServerlessConfig');
      if (seenVariants.has(variant.VariantName)) {
        throw validationException(`The variant name(s) [${variant.VariantName}] are duplicated. Variant names must be unique within an endpoint configuration.`);
      }
      seenVariants.add(variant.VariantName);
      this.requireModel(variant.ModelName);
    }
    if (this.endpointConfigs.has(key(input.EndpointConfigName))) {
      throw validationException(`Cannot create already existing endpoint configuration "${this.endpointConfigArn(input.EndpointConfigName)}".`);
    }
    const config: StoredEndpointConfig = {
      name: input.EndpointConfigName,
      arn: this.endpointConfigArn(input.EndpointConfigName),
      variants: input.ProductionVariants.map((variant) => ({ ...variant, InitialVariantWeight: variant.InitialVariantWeight ?? 1 })),
      dataCaptureConfig: input.DataCaptureConfig,
      kmsKeyId: input.KmsKeyId,
      creationTimeMs: nowMs(),
      tags,
    };
    this.endpointConfigs.set(key(config.name), config);
    return { EndpointConfigArn: config.arn };
  }

  private describeEndpointConfig(rawInput: unknown): object {
    const input = parseAwsInput(endpointConfigNameInput, rawInput);
    const config = this.requireEndpointConfig(input.EndpointConfigName);
    return {
      EndpointConfigName: config.name,
      EndpointConfigArn: config.arn,
      ProductionVariants: structuredClone(config.variants),
      ...(config.dataCaptureConfig !== undefined ? { DataCaptureConfig: structuredClone(config.dataCaptureConfig) } : {}),
      ...(config.kmsKeyId !== undefined ? { KmsKeyId: config.kmsKeyId } : {}),
      CreationTime: epochSeconds(config.creationTimeMs),
    };
  }

  private deleteEndpointConfig(rawInput: unknown): object {
    const input = parseAwsInput(endpointConfigNameInput, rawInput);
    const config = this.requireEndpointConfig(input.EndpointConfigName);
    const user = [...this.endpoints.values()].find(
      (endpoint) =>
        key(endpoint.configName) === key(config.name) ||
        (endpoint.transition?.kind === 'update' && key(endpoint.transition.targetConfigName) === key(config.name)),
    );
    if (user) throw validationException(`Cannot delete endpoint configuration "${config.arn}": it is in use by endpoint "${user.name}".`);
    this.endpointConfigs.delete(key(config.name));
    return {};
  }

  // ---------------------------------------------------------------- endpoints

  /** Fresh fleets for every variant of `config` (cold: no invocations served yet). */
  private fleetsFor(config: StoredEndpointConfig): ServingVariant[] {
    return config.variants.map((variant) => {
      const model = this.requireModel(variant.ModelName);
      return {
        variantName: variant.VariantName,
        modelName: model.name,
        instanceType: variant.InstanceType,
        ...(variant.AcceleratorType !== undefined ? { acceleratorType: variant.AcceleratorType } : {}),
        currentWeight: variant.InitialVariantWeight,
        desiredWeight: variant.InitialVariantWeight,
        currentInstanceCount: variant.InitialInstanceCount,
        desiredInstanceCount: variant.InitialInstanceCount,
        image: model.image,
        modelDataUrl: model.modelDataUrl,
        invocations: 0,
      };
    });
  }

  /** The FailureReason of the first fleet whose container fails its health check, if any. */
  private healthCheckFailure(fleets: readonly ServingVariant[]): string | undefined {
    const failing = fleets.find((fleet) => this.failsHealthCheck(fleet.modelDataUrl));
    return failing
      ? `The primary container for production variant ${failing.variantName} did not pass the ping health check. Please check CloudWatch logs for this endpoint.`
      : undefined;
  }

  /**
   * `announce: false` (seeding) keeps the endpoint out of the change history, and out of quota and capacity checks:
   * a seeded endpoint was created before the rehearsal's quotas applied.
   */
  private createEndpoint(rawInput: unknown, announce = true): object {
    const input = parseAwsInput(createEndpointInput, rawInput);
    const tags = uniqueTags(input.Tags);
    if (input.DeploymentConfig !== undefined) throw notSimulated('DeploymentConfig');
    const config = this.requireEndpointConfig(input.EndpointConfigName);
    if (this.endpoints.has(key(input.EndpointName))) {
      throw validationException(`Cannot create already existing endpoint "${this.endpointArn(input.EndpointName)}".`);
    }
    const fleets = this.fleetsFor(config);
    const added = this.addedInstances(fleets, []);
    if (announce) this.checkEndpointUsageQuotas(added);
    const now = nowMs();
    const failureReason = this.faults.createFailureReason() ?? (announce ? this.capacityFailure(added) : undefined) ?? this.healthCheckFailure(fleets);
    const endpoint: StoredEndpoint = {
      name: input.EndpointName,
      arn: this.endpointArn(input.EndpointName),
      creationTimeMs: now,
      lastModifiedTimeMs: now,
      status: 'Creating',
      configName: config.name,
      variants: [],
      dataCaptureConfig: config.dataCaptureConfig,
      tags,
    };
    this.endpoints.set(key(endpoint.name), endpoint);
    this.openFleets(endpoint.name, fleets, now);
    this.startTransition(endpoint, {
      kind: 'create',
      endsAtMs: now + this.timings.createEndpointSeconds * 1000,
      variants: fleets,
      ...(failureReason !== undefined ? { failureReason } : {}),
    });
    if (announce) this.emit(endpoint, now, `CreateEndpoint: Creating on ${config.name}`);
    return { EndpointArn: endpoint.arn };
  }

  private updateEndpoint(rawInput: unknown): object {
    const input = parseAwsInput(updateEndpointInput, rawInput);
    if (input.DeploymentConfig !== undefined) throw notSimulated('DeploymentConfig');
    const excluded = new Set((input.ExcludeRetainedVariantProperties ?? []).map((property) => property.VariantPropertyType));
    if (excluded.size > 0 && input.RetainAllVariantProperties !== true) {
      throw validationException('ExcludeRetainedVariantProperties can only be specified when RetainAllVariantProperties is set to true.');
    }
    const endpoint = this.requireEndpoint(input.EndpointName);
    this.requireMutable(endpoint);
    const config = this.requireEndpointConfig(input.EndpointConfigName);
    this.checkAutoScaledVariantsKept(endpoint, config);

    const fleets = this.fleetsFor(config);
    if (input.RetainAllVariantProperties === true) {
      // Variants present before and after keep their current weight and instance count, except the
      // properties listed as excluded, which come from the new config.
      for (const fleet of fleets) {
        const current = endpoint.variants.find((variant) => variant.variantName === fleet.variantName);
        if (!current) continue;
        if (!excluded.has('DesiredWeight')) fleet.currentWeight = fleet.desiredWeight = current.desiredWeight;
        if (!excluded.has('DesiredInstanceCount')) {
          fleet.currentInstanceCount = fleet.desiredInstanceCount = current.desiredInstanceCount;
        }
      }
    }
    const retainDataCapture = input.RetainAllVariantProperties === true && !excluded.has('DataCaptureConfig');
    const added = this.addedInstances(fleets, endpoint.variants);
    this.checkEndpointUsageQuotas(added);
    const now = nowMs();
    const failureReason = this.faults.rollbackReasonFor(config.name) ?? this.capacityFailure(added) ?? this.healthCheckFailure(fleets);
    endpoint.status = 'Updating';
    endpoint.lastModifiedTimeMs = now;
    this.openFleets(endpoint.name, fleets, now);
    this.startTransition(endpoint, {
      kind: 'update',
      startedAtMs: now,
      endsAtMs: now + this.timings.updateEndpointSeconds * 1000,
      targetConfigName: config.name,
      variants: fleets,
      dataCaptureConfig: retainDataCapture ? endpoint.dataCaptureConfig : config.dataCaptureConfig,
      ...(failureReason !== undefined ? { failureReason } : {}),
    });
    this.emit(endpoint, now, `UpdateEndpoint: Updating from ${endpoint.configName} to ${config.name}`);
    return { EndpointArn: endpoint.arn };
  }

  private updateEndpointWeightsAndCapacities(rawInput: unknown): object {
    const input = parseAwsInput(updateEndpointWeightsAndCapacitiesInput, rawInput);
    const endpoint = this.requireEndpoint(input.EndpointName);
    this.requireMutable(endpoint);
    const requested = new Map<string, (typeof input.DesiredWeightsAndCapacities)[number]>();
    for (const desired of input.DesiredWeightsAndCapacities) {
      if (requested.has(desired.VariantName)) {
        throw validationException(`The variant name(s) [${desired.VariantName}] are duplicated in DesiredWeightsAndCapacities.`);
      }
      if (desired.ServerlessUpdateConfig !== undefined) throw notSimulated('ServerlessUpdateConfig');
      if (desired.DesiredInstanceCount === 0) throw notSimulated('DesiredInstanceCount 0 (scale to zero needs managed instance scaling)');
      requested.set(desired.VariantName, desired);
    }
    const unknown = [...requested.keys()].filter((name) => !endpoint.variants.some((variant) => variant.variantName === name));
    if (unknown.length > 0) {
      throw validationException(`The variant name(s) [${unknown.join(', ')}] are not present in endpoint "${endpoint.arn}".`);
    }
    const weightAfter = (variant: ServingVariant): number => requested.get(variant.variantName)?.DesiredWeight ?? variant.desiredWeight;
    if (endpoint.variants.every((variant) => weightAfter(variant) === 0)) {
      throw validationException(`The sum of the weights of the production variants of endpoint "${endpoint.arn}" must be greater than 0.`);
    }
    for (const variant of endpoint.variants) {
      const desired = requested.get(variant.variantName);
      if (desired?.DesiredWeight !== undefined) variant.desiredWeight = desired.DesiredWeight;
      if (desired?.DesiredInstanceCount !== undefined) variant.desiredInstanceCount = desired.DesiredInstanceCount;
    }
    this.startWeightsTransition(endpoint, `UpdateEndpointWeightsAndCapacities: Updating to ${describeWeights(endpoint.variants, 'desired')}`);
    return { EndpointArn: endpoint.arn };
  }

  /** Updating for updateWeightsSeconds towards the variants' desired weights and counts; added instances count from now. */
  private startWeightsTransition(endpoint: StoredEndpoint, message: string): void {
    const now = nowMs();
    endpoint.status = 'Updating';
    endpoint.lastModifiedTimeMs = now;
    for (const variant of endpoint.variants) {
      if (variant.desiredInstanceCount > variant.currentInstanceCount) this.resizeFleet(variant, variant.desiredInstanceCount, now);
    }
    this.startTransition(endpoint, { kind: 'weights', endsAtMs: now + this.timings.updateWeightsSeconds * 1000 });
    this.emit(endpoint, now, message);
  }

  /**
   * SageMaker refuses an UpdateEndpoint that would remove a variant registered as a scalable target, or change its
   * instance type: its scaling policies must be deleted and its target deregistered first.
   */
  private checkAutoScaledVariantsKept(endpoint: StoredEndpoint, config: StoredEndpointConfig): void {
    const registered = this.registeredVariants(endpoint);
    const blocking = endpoint.variants.filter((variant) => {
      if (!registered.has(variant.variantName)) return false;
      const next = config.variants.find((candidate) => candidate.VariantName === variant.variantName);
      return next === undefined || next.InstanceType !== variant.instanceType;
    });
    if (blocking.length === 0) return;
    const names = blocking.map((variant) => variant.variantName).join(', ');
    throw validationException(
      `The variant(s) [${names}] of endpoint "${endpoint.arn}" are registered as scalable targets with Application Auto Scaling, ` +
        `and endpoint configuration "${config.name}" would remove them or change their instance type. ` +
        'Delete their scaling policies and deregister them (DeregisterScalableTarget) before updating the endpoint.',
    );
  }

  private describeEndpoint(rawInput: unknown): object {
    const input = parseAwsInput(endpointNameInput, rawInput);
    const endpoint = this.requireEndpoint(input.EndpointName);
    const transition = endpoint.transition;
    return {
      EndpointName: endpoint.name,
      EndpointArn: endpoint.arn,
      EndpointConfigName: endpoint.configName,
      ...(endpoint.variants.length > 0 ? { ProductionVariants: endpoint.variants.map((variant) => this.variantSummary(variant)) } : {}),
      EndpointStatus: endpoint.status,
      ...(endpoint.failureReason !== undefined ? { FailureReason: endpoint.failureReason } : {}),
      CreationTime: epochSeconds(endpoint.creationTimeMs),
      LastModifiedTime: epochSeconds(endpoint.lastModifiedTimeMs),
      ...(transition?.kind === 'update'
        ? {
            PendingDeploymentSummary: {
              EndpointConfigName: transition.targetConfigName,
              ProductionVariants: transition.variants.map((variant) => ({
                VariantName: variant.variantName,
                DeployedImages: this.deployedImages(variant),
                DesiredWeight: variant.desiredWeight,
                DesiredInstanceCount: variant.desiredInstanceCount,
                InstanceType: variant.instanceType,
              })),
              StartTime: epochSeconds(transition.startedAtMs),
            },
          }
        : {}),
    };
  }

  private variantSummary(variant: ServingVariant): object {
    return {
      VariantName: variant.variantName,
      DeployedImages: this.deployedImages(variant),
      CurrentWeight: variant.currentWeight,
      DesiredWeight: variant.desiredWeight,
      CurrentInstanceCount: variant.currentInstanceCount,
      DesiredInstanceCount: variant.desiredInstanceCount,
    };
  }

  private deployedImages(variant: ServingVariant): object[] {
    // SageMaker resolves the image tag to a digest when it deploys; a hash of the image stands in for it.
    const digest = createHash('sha256').update(variant.image).digest('hex');
    const repository = variant.image.split('@')[0]!.replace(/:[^:/]*$/, '');
    return [{ SpecifiedImage: variant.image, ResolvedImage: `${repository}@sha256:${digest}` }];
  }

  private deleteEndpoint(rawInput: unknown): object {
    const input = parseAwsInput(endpointNameInput, rawInput);
    const endpoint = this.requireEndpoint(input.EndpointName);
    if (IN_PROGRESS_STATUSES.has(endpoint.status)) {
      throw validationException(`Cannot update in-progress endpoint "${endpoint.arn}".`);
    }
    // Application Auto Scaling deregisters the endpoint's variants on its own (the caller is allowed to).
    this.scalableTargets?.deregisterEndpoint(endpoint.name);
    const now = nowMs();
    endpoint.status = 'Deleting';
    endpoint.lastModifiedTimeMs = now;
    this.startTransition(endpoint, { kind: 'delete', endsAtMs: now + this.timings.deleteEndpointSeconds * 1000 });
    this.emit(endpoint, now, 'DeleteEndpoint: Deleting');
    return {};
  }

  // ---------------------------------------------------------------- List operations

  /** ListEndpointConfigs, ListModels, ListEndpoints: one page of summaries (sagemaker-lists.ts filters and pages). */
  private listOperation(what: 'EndpointConfigs' | 'Models' | 'Endpoints', rawInput: unknown): object {
    const created = (resource: { creationTimeMs: number }) => ({ CreationTime: epochSeconds(resource.creationTimeMs) });
    const page =
      what === 'EndpointConfigs'
        ? listPage(listEndpointConfigsInput, rawInput, this.endpointConfigs.values(), (c) => ({ EndpointConfigName: c.name, EndpointConfigArn: c.arn, ...created(c) }))
        : what === 'Models'
          ? listPage(listModelsInput, rawInput, this.models.values(), (m) => ({ ModelName: m.name, ModelArn: m.arn, ...created(m) }))
          : listPage(listEndpointsInput, rawInput, this.endpoints.values(), (e) => ({
              EndpointName: e.name,
              EndpointArn: e.arn,
              ...created(e),
              LastModifiedTime: epochSeconds(e.lastModifiedTimeMs),
              EndpointStatus: e.status,
            }));
    return { [what]: page.items, ...(page.NextToken !== undefined ? { NextToken: page.NextToken } : {}) };
  }

  // ---------------------------------------------------------------- tags

  /** The tags of the resource an ARN names (the stored array, mutable by AddTags/DeleteTags). */
  private taggable(arn: string): { tags: ParsedTag[] } {
    const match = /^arn:aws[a-z-]*:sagemaker:([^:]*):(\d{12}):([a-z-]+)\/(.+)$/.exec(arn);
    const [, region, account, resourceType, name] = match ?? [];
    const here = region === this.region && account === this.accountId;
    switch (resourceType) {
      case 'model': {
        const model = here ? this.models.get(key(name!)) : undefined;
        if (!model) throw validationException(`Could not find model "${arn}".`);
        return model;
      }
      case 'endpoint-config': {
        const config = here ? this.endpointConfigs.get(key(name!)) : undefined;
        if (!config) throw validationException(`Could not find endpoint configuration "${arn}".`);
        return config;
      }
      case 'endpoint': {
        const endpoint = here ? this.endpoints.get(key(name!)) : undefined;
        if (!endpoint) throw validationException(`Could not find endpoint "${arn}".`);
        return endpoint;
      }
      case 'model-package':
        return this.requireModelPackage(arn);
      default:
        throw validationException(`The resource type of "${arn}" is not supported by the simulation (models, endpoint configs, endpoints and model packages are).`);
    }
  }

  private listTags(rawInput: unknown): object {
    const input = parseAwsInput(listTagsInput, rawInput);
    return { Tags: this.taggable(input.ResourceArn).tags.map((tag) => ({ ...tag })) };
  }

  private addTags(rawInput: unknown): object {
    const input = parseAwsInput(addTagsInput, rawInput);
    const added = uniqueTags(input.Tags);
    const resource = this.taggable(input.ResourceArn);
    const merged = new Map(resource.tags.map((tag) => [tag.Key, tag.Value]));
    for (const tag of added) merged.set(tag.Key, tag.Value);
    if (merged.size > 50) {
      throw new AwsServiceError('ResourceLimitExceeded', `Resource "${input.ResourceArn}" cannot have more than 50 tags.`);
    }
    resource.tags = [...merged].map(([Key, Value]) => ({ Key, Value }));
    return { Tags: added.map((tag) => ({ ...tag })) };
  }

  private deleteTags(rawInput: unknown): object {
    const input = parseAwsInput(deleteTagsInput, rawInput);
    const resource = this.taggable(input.ResourceArn);
    const removed = new Set(input.TagKeys);
    resource.tags = resource.tags.filter((tag) => !removed.has(tag.Key));
    return {};
  }

  // ---------------------------------------------------------------- transitions

  /** Every fleet an endpoint serves with or is moving to (what a model deletion would break). */
  private variantsInvolving(endpoint: StoredEndpoint): ServingVariant[] {
    const transition = endpoint.transition;
    const pending = transition?.kind === 'create' || transition?.kind === 'update' ? transition.variants : [];
    return [...endpoint.variants, ...pending];
  }

  private startTransition(endpoint: StoredEndpoint, transition: Transition): void {
    endpoint.transition = transition;
    scheduleAt(transition.endsAtMs, () => this.settleTransitions());
  }

  /** Completes every transition that is due, in the order they ended. */
  private settleTransitions(): void {
    const now = nowMs();
    const due = [...this.endpoints.values()]
      .filter((endpoint) => endpoint.transition !== undefined && endpoint.transition.endsAtMs <= now)
      .sort((a, b) => a.transition!.endsAtMs - b.transition!.endsAtMs);
    for (const endpoint of due) this.complete(endpoint);
  }

  private complete(endpoint: StoredEndpoint): void {
    const transition = endpoint.transition!;
    const at = transition.endsAtMs;
    endpoint.transition = undefined;
    endpoint.lastModifiedTimeMs = at;
    switch (transition.kind) {
      case 'create':
        if (transition.failureReason !== undefined) {
          endpoint.status = 'Failed';
          endpoint.failureReason = transition.failureReason;
          this.releaseFleets(transition.variants, at);
          this.emit(endpoint, at, `CreateEndpoint failed: ${transition.failureReason}`);
        } else {
          endpoint.status = 'InService';
          endpoint.variants = transition.variants;
          this.emit(endpoint, at, `InService on ${endpoint.configName}: ${describeWeights(endpoint.variants, 'current')}`);
        }
        return;
      case 'update':
        endpoint.status = 'InService';
        if (transition.failureReason !== undefined) {
          // SageMaker rolls the update back: the old fleet keeps serving, the new one is released.
          endpoint.failureReason = transition.failureReason;
          this.releaseFleets(transition.variants, at);
          this.emit(endpoint, at, `UpdateEndpoint to ${transition.targetConfigName} rolled back, InService on ${endpoint.configName}: ${transition.failureReason}`);
        } else {
          endpoint.failureReason = undefined;
          endpoint.configName = transition.targetConfigName;
          this.releaseFleets(endpoint.variants, at);
          endpoint.variants = transition.variants;
          endpoint.dataCaptureConfig = transition.dataCaptureConfig;
          this.emit(endpoint, at, `InService on ${endpoint.configName}: ${describeWeights(endpoint.variants, 'current')}`);
        }
        return;
      case 'weights':
        endpoint.status = 'InService';
        for (const variant of endpoint.variants) {
          variant.currentWeight = variant.desiredWeight;
          variant.currentInstanceCount = variant.desiredInstanceCount;
          this.resizeFleet(variant, variant.currentInstanceCount, at);
        }
        this.emit(endpoint, at, `Weights applied: ${describeWeights(endpoint.variants, 'current')}`);
        return;
      case 'delete':
        this.releaseFleets(endpoint.variants, at);
        this.endpoints.delete(key(endpoint.name));
        this.notify({ endpointName: endpoint.name, status: 'Deleted', endpointConfigName: endpoint.configName, atMs: at, message: 'Endpoint deleted' });
        return;
    }
  }

  private emit(endpoint: StoredEndpoint, atMs: number, message: string): void {
    this.notify({ endpointName: endpoint.name, status: endpoint.status, endpointConfigName: endpoint.configName, atMs, message });
  }

  private notify(change: EndpointChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

/** `blue=1 (2 x ml.g5.xlarge), green=0 (1 x ml.g5.xlarge)` */
function describeWeights(variants: readonly ServingVariant[], which: 'current' | 'desired'): string {
  return variants
    .map((variant) =>
      which === 'current'
        ? `${variant.variantName}=${variant.currentWeight} (${variant.currentInstanceCount} x ${variant.instanceType})`
        : `${variant.variantName}=${variant.desiredWeight} (${variant.desiredInstanceCount} x ${variant.instanceType})`,
    )
    .join(', ');
}

/** Tags of a Create* call: keys must be unique and not use the reserved `aws:` prefix. */
function uniqueTags(tags: readonly ParsedTag[] | undefined): ParsedTag[] {
  const seen = new Set<string>();
  for (const tag of tags ?? []) {
    if (tag.Key.toLowerCase().startsWith('aws:')) throw validationException(`Tag keys beginning with "aws:" are reserved: "${tag.Key}".`);
    if (seen.has(tag.Key)) throw validationException(`Duplicate tag key "${tag.Key}": tag keys must be unique per resource.`);
    seen.add(tag.Key);
  }
  return (tags ?? []).map((tag) => ({ ...tag }));
}

/** AWS accepts these members; the simulation refuses them rather than ignoring what they would change. */
function notSimulated(member: string): AwsServiceError {
  return validationException(`${member} is not supported by the SageMaker simulation.`);
}
