/**
 * A picture of a state machine: Mermaid `flowchart TD` text generated from its ASL definition, so the graphs in
 * README.md are the state machines that run. `npm run graph` (bin/graph.ts) rewrites the README's marked blocks;
 * test/tools/state-machine-graph.test.ts fails when they are stale.
 *
 * Drawing rules: every state is one node labelled with its name, in ASL order (ids s0, s1, …, depth first, so the
 * ids of a Map's or Parallel's inner states follow it). Task: rectangle; Choice: rhombus; Wait: stadium with what it
 * waits; Pass: subroutine; Succeed / Fail: circles (green / red); Map and Parallel: subgraphs holding their inner
 * states. Edges: Next solid; Choice rules solid, with a short label (the compared value, or the field's last path
 * segment), the Default labelled "otherwise"; Catch dotted, labelled with its first error ("States.ALL" is "error").
 * Retries are not drawn: they do not change where the execution goes.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { ROLLOUT_ASL_PATH } from '../state-machines/rollout-definition';
import { RECONCILE_ASL_PATH } from '../rehearsal/definition';

/** The ASL state types (Step Functions' whole list). */
export const STATE_TYPES = ['Task', 'Pass', 'Choice', 'Wait', 'Succeed', 'Fail', 'Map', 'Parallel'] as const;
export type StateType = (typeof STATE_TYPES)[number];

/** A Choice rule, top level (with Next) or nested in And / Or / Not; its one comparison operator is read by name. */
export interface ChoiceRule {
  /** The JSONPath of the compared field (JSONPath rules). */
  readonly Variable?: string;
  /** A JSONata condition (JSONata rules), drawn shortened. */
  readonly Condition?: string;
  /** All of these hold. */
  readonly And?: readonly ChoiceRule[];
  /** One of these holds. */
  readonly Or?: readonly ChoiceRule[];
  /** This does not hold. */
  readonly Not?: ChoiceRule;
  /** Where a top-level rule goes. */
  readonly Next?: string;
  /** The comparison operator (StringEquals, BooleanEquals, IsPresent, …) and its value. */
  readonly [operator: string]: unknown;
}

/** A Catch entry: the errors it catches and where it goes. */
export interface Catcher {
  /** Error names; the first one labels the edge. */
  readonly ErrorEquals: readonly string[];
  /** The state the error goes to. */
  readonly Next: string;
}

/** One state, as far as the graph needs it (other fields are accepted and ignored). */
export interface AslState {
  /** The state's type: it picks the node's shape. */
  readonly Type: StateType;
  /** The state that follows. */
  readonly Next?: string;
  /** A Choice's rules, in evaluation order. */
  readonly Choices?: readonly ChoiceRule[];
  /** A Choice's state when no rule matches. */
  readonly Default?: string;
  /** Error handlers, in evaluation order. */
  readonly Catch?: readonly Catcher[];
  /** A Wait's fixed duration. */
  readonly Seconds?: number;
  /** Where a Wait reads its duration. */
  readonly SecondsPath?: string;
  /** A Wait's fixed end time. */
  readonly Timestamp?: string;
  /** Where a Wait reads its end time. */
  readonly TimestampPath?: string;
  /** A Map's inner states. */
  readonly ItemProcessor?: StatesScope;
  /** A Map's inner states (the older field name). */
  readonly Iterator?: StatesScope;
  /** A Parallel's branches. */
  readonly Branches?: readonly StatesScope[];
}

/** A set of states with its start: the whole machine, a Map's item processor or a Parallel branch. */
export interface StatesScope {
  /** The first state. */
  readonly StartAt: string;
  /** The states by name, in the order they are written. */
  readonly States: Readonly<Record<string, AslState>>;
}

const stateName = z.string().min(1, 'must name a state');

const ChoiceRuleSchema: z.ZodType<ChoiceRule> = z.lazy(() =>
  z.looseObject({
    Variable: z.string().min(1).optional(),
    Condition: z.string().min(1).optional(),
    And: z.array(ChoiceRuleSchema).min(1, 'must hold at least one rule').optional(),
    Or: z.array(ChoiceRuleSchema).min(1, 'must hold at least one rule').optional(),
    Not: ChoiceRuleSchema.optional(),
    Next: stateName.optional(),
  }),
);

const CatcherSchema = z.looseObject({
  ErrorEquals: z.array(z.string().min(1)).min(1, 'must name at least one error'),
  Next: stateName,
});

const StateSchema: z.ZodType<AslState> = z.lazy(() =>
  z.looseObject({
    Type: z.enum(STATE_TYPES, `must be one of ${STATE_TYPES.join(', ')}`),
    Next: stateName.optional(),
    Choices: z.array(ChoiceRuleSchema).optional(),
    Default: stateName.optional(),
    Catch: z.array(CatcherSchema).optional(),
    Seconds: z.number().optional(),
    SecondsPath: z.string().optional(),
    Timestamp: z.string().optional(),
    TimestampPath: z.string().optional(),
    ItemProcessor: StatesScopeSchema.optional(),
    Iterator: StatesScopeSchema.optional(),
    Branches: z.array(StatesScopeSchema).min(1, 'must hold at least one branch').optional(),
  }),
);

const StatesScopeSchema: z.ZodType<StatesScope> = z.lazy(() =>
  z.looseObject({
    StartAt: stateName,
    States: z.record(z.string().min(1, 'a state name must not be empty'), StateSchema),
  }),
);

/** Parses an ASL definition (or throws, naming each wrong field). */
export function parseStateMachineDefinition(definition: unknown): StatesScope {
  const result = StatesScopeSchema.safeParse(definition);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${formatPath(issue.path) || '(definition)'}: ${issue.message}`);
    throw new Error(`Invalid state machine definition:\n  ${lines.join('\n  ')}`);
  }
  return result.data;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`)).join('');
}

/**
 * Mermaid text for a label inside double quotes. Quotes, brackets and HTML-significant characters become entity
 * codes, which Mermaid renders as the characters; '#' first, as it starts those codes.
 */
export function escapeMermaidLabel(text: string): string {
  const codes: Readonly<Record<string, string>> = {
    '#': '#35;',
    '"': '#quot;',
    '&': '#amp;',
    '<': '#lt;',
    '>': '#gt;',
    '[': '#91;',
    ']': '#93;',
    '(': '#40;',
    ')': '#41;',
    '{': '#123;',
    '}': '#125;',
    '|': '#124;',
  };
  return text.replace(/[#"&<>[\](){}|]/g, (char) => codes[char] ?? char);
}

/** The last segment of a JSONPath ("$.plan.firstDeployment" → "firstDeployment"): short, and says what is compared. */
export function lastPathSegment(path: string): string {
  const segments = path.split('.').filter((segment) => segment.length > 0);
  return segments.length > 1 ? segments[segments.length - 1] : path;
}

/** Longest JSONata condition drawn on an edge. */
const MAX_CONDITION_CHARS = 40;

const COMPARISON = /^(String|Numeric|Boolean|Timestamp)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals|Matches)(Path)?$/;
const TYPE_TEST = /^Is(Null|Present|Numeric|String|Boolean|Timestamp)$/;
const RELATION_SYMBOLS: Readonly<Record<string, string>> = {
  Equals: '=',
  LessThan: '<',
  GreaterThan: '>',
  LessThanEquals: '<=',
  GreaterThanEquals: '>=',
  Matches: 'matches',
};

/**
 * A short label for a Choice rule: a string equality shows the value ("WAIT"), a boolean the field ("inService",
 * "not inService"), other comparisons "field op value"; And / Or / Not combine their parts.
 */
export function choiceRuleLabel(rule: ChoiceRule): string {
  if (rule.And) return rule.And.map(choiceRuleLabel).join(' and ');
  if (rule.Or) return rule.Or.map(choiceRuleLabel).join(' or ');
  if (rule.Not) return `not ${choiceRuleLabel(rule.Not)}`;
  if (rule.Condition !== undefined) return shortCondition(rule.Condition);
  const field = lastPathSegment(rule.Variable ?? '$');
  for (const [operator, operand] of Object.entries(rule)) {
    const comparison = COMPARISON.exec(operator);
    if (comparison) {
      const [, kind, relation, isPath] = comparison;
      const value = isPath ? lastPathSegment(String(operand)) : String(operand);
      if (kind === 'String' && relation === 'Equals' && !isPath) return value;
      if (kind === 'Boolean' && relation === 'Equals' && !isPath) return operand === true ? field : `not ${field}`;
      return `${field} ${RELATION_SYMBOLS[relation]} ${value}`;
    }
    const typeTest = TYPE_TEST.exec(operator);
    if (typeTest) {
      const [, tested] = typeTest;
      if (tested === 'Present') return operand === true ? `${field} present` : `${field} absent`;
      return `${field} ${operand === true ? 'is' : 'is not'} ${tested.toLowerCase()}`;
    }
  }
  return field;
}

function shortCondition(condition: string): string {
  const expression = condition.replace(/^\{%\s*/, '').replace(/\s*%\}$/, '');
  return expression.length <= MAX_CONDITION_CHARS ? expression : `${expression.slice(0, MAX_CONDITION_CHARS - 1)}…`;
}

/** A Catch edge's label: its first error, "States.ALL" read as "error". */
export function catchLabel(catcher: Catcher): string {
  const first = catcher.ErrorEquals[0];
  return first === 'States.ALL' ? 'error' : first;
}

/** What a Wait state waits, under its name. */
function waitLabel(state: AslState): string {
  if (state.Seconds !== undefined) return `wait ${state.Seconds} s`;
  if (state.SecondsPath !== undefined) return `wait ${lastPathSegment(state.SecondsPath)}`;
  if (state.Timestamp !== undefined) return `wait until ${state.Timestamp}`;
  if (state.TimestampPath !== undefined) return `wait until ${lastPathSegment(state.TimestampPath)}`;
  return 'wait';
}

/** A state with its node id and the scope its transitions resolve in. */
interface GraphNode {
  /** The Mermaid node id (s0, s1, … in ASL order). */
  readonly id: string;
  /** The state's name. */
  readonly name: string;
  /** The state. */
  readonly state: AslState;
  /** Where the state is written, for error messages ('States["Lock taken?"]'). */
  readonly location: string;
  /** Node ids of the states its Next / Choices / Catch may name (its own scope). */
  readonly scope: ReadonlyMap<string, string>;
  /** A Map's item processor or a Parallel's branches, each its nodes. */
  readonly innerScopes: readonly (readonly GraphNode[])[];
}

/** Mermaid shapes by state type; Map and Parallel are subgraphs instead. */
function nodeDeclaration(node: GraphNode): string {
  const name = escapeMermaidLabel(node.name);
  switch (node.state.Type) {
    case 'Choice':
      return `${node.id}{"${name}"}`;
    case 'Wait':
      return `${node.id}(["${name}<br/>${escapeMermaidLabel(waitLabel(node.state))}"])`;
    case 'Pass':
      return `${node.id}[["${name}"]]`;
    case 'Succeed':
    case 'Fail':
      return `${node.id}(("${name}"))`;
    default:
      return `${node.id}["${name}"]`;
  }
}

/** Terminal node styles: a good ending green, a failed one red. */
const CLASS_DEFINITIONS = [
  'classDef succeed fill:#d3f0d9,stroke:#2e7d32,color:#1b5e20',
  'classDef fail fill:#fbd9d9,stroke:#c62828,color:#8e1c1c',
];

/**
 * The Mermaid `flowchart TD` text of a state machine (no trailing newline). Deterministic: it depends only on the
 * definition, in the order its states are written. Throws when the definition is not ASL or a transition names a
 * state that is not in its scope.
 */
export function stateMachineGraph(definition: unknown): string {
  const machine = parseStateMachineDefinition(definition);
  let nextId = 0;

  const buildScope = (scope: StatesScope, location: string): GraphNode[] => {
    const ids = new Map<string, string>();
    const nodes: GraphNode[] = [];
    for (const [name, state] of Object.entries(scope.States)) {
      const id = `s${nextId++}`;
      ids.set(name, id);
      const stateLocation = `${location}States[${JSON.stringify(name)}]`;
      nodes.push({ id, name, state, location: stateLocation, scope: ids, innerScopes: buildInnerScopes(state, stateLocation) });
    }
    if (!ids.has(scope.StartAt)) throw new Error(`${location}StartAt: "${scope.StartAt}" is not a state of ${location ? 'this scope' : 'the state machine'}`);
    return nodes;
  };
  const buildInnerScopes = (state: AslState, location: string): GraphNode[][] => {
    if (state.Type === 'Map') {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (!processor) throw new Error(`${location}.ItemProcessor: a Map state needs its inner states`);
      return [buildScope(processor, `${location}.${state.ItemProcessor ? 'ItemProcessor' : 'Iterator'}.`)];
    }
    if (state.Type === 'Parallel') {
      if (!state.Branches) throw new Error(`${location}.Branches: a Parallel state needs its branches`);
      return state.Branches.map((branch, index) => buildScope(branch, `${location}.Branches[${index}].`));
    }
    return [];
  };

  const nodes = buildScope(machine, '');
  const lines = ['flowchart TD'];
  const succeedIds: string[] = [];
  const failIds: string[] = [];

  const declare = (scopeNodes: readonly GraphNode[], indent: string): void => {
    for (const node of scopeNodes) {
      if (node.state.Type === 'Map' || node.state.Type === 'Parallel') {
        lines.push(`${indent}subgraph ${node.id}["${escapeMermaidLabel(node.name)}"]`);
        if (node.state.Type === 'Map') {
          declare(node.innerScopes[0], `${indent}  `);
        } else {
          node.innerScopes.forEach((branch, index) => {
            lines.push(`${indent}  subgraph ${node.id}_b${index + 1}["branch ${index + 1}"]`);
            declare(branch, `${indent}    `);
            lines.push(`${indent}  end`);
          });
        }
        lines.push(`${indent}end`);
      } else {
        lines.push(`${indent}${nodeDeclaration(node)}`);
      }
      if (node.state.Type === 'Succeed') succeedIds.push(node.id);
      if (node.state.Type === 'Fail') failIds.push(node.id);
    }
  };

  const connect = (scopeNodes: readonly GraphNode[]): void => {
    for (const node of scopeNodes) {
      const target = (name: string, field: string): string => {
        const id = node.scope.get(name);
        if (id === undefined) throw new Error(`${node.location}.${field}: "${name}" is not a state of this scope`);
        return id;
      };
      if (node.state.Next !== undefined) lines.push(`  ${node.id} --> ${target(node.state.Next, 'Next')}`);
      node.state.Choices?.forEach((rule, index) => {
        if (rule.Next === undefined) throw new Error(`${node.location}.Choices[${index}].Next: a Choice rule needs its next state`);
        lines.push(`  ${node.id} -->|"${escapeMermaidLabel(choiceRuleLabel(rule))}"| ${target(rule.Next, `Choices[${index}].Next`)}`);
      });
      if (node.state.Default !== undefined) lines.push(`  ${node.id} -->|"otherwise"| ${target(node.state.Default, 'Default')}`);
      node.state.Catch?.forEach((catcher, index) => {
        lines.push(`  ${node.id} -.->|"${escapeMermaidLabel(catchLabel(catcher))}"| ${target(catcher.Next, `Catch[${index}].Next`)}`);
      });
      node.innerScopes.forEach(connect);
    }
  };

  declare(nodes, '  ');
  connect(nodes);
  lines.push(...CLASS_DEFINITIONS.map((definitionLine) => `  ${definitionLine}`));
  if (succeedIds.length > 0) lines.push(`  class ${succeedIds.join(',')} succeed`);
  if (failIds.length > 0) lines.push(`  class ${failIds.join(',')} fail`);
  return lines.join('\n');
}

/** A generated block of README.md, between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
export interface ReadmeGraphBlock {
  /** The markers' name. */
  readonly name: string;
  /** The ASL file the graph is drawn from. */
  readonly aslPath: string;
}

/** The README's graphs: the rollout (the template, before the stack unrolls traffic steps) and the reconciler. */
export const README_GRAPH_BLOCKS: readonly ReadmeGraphBlock[] = [
  { name: 'state-machine-graph', aslPath: ROLLOUT_ASL_PATH },
  { name: 'reconciler-graph', aslPath: RECONCILE_ASL_PATH },
];

/** The README the graphs are kept in. */
export const README_PATH = join(__dirname, '..', 'README.md');

/** The command that regenerates the blocks (named in every staleness message). */
export const GRAPH_COMMAND = 'npm run graph';

/** A block's start and end markers. */
export function blockMarkers(name: string): { readonly start: string; readonly end: string } {
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` };
}

/** What goes between a block's markers: the graph as a fenced mermaid block, on lines of its own. */
export function mermaidBlock(graph: string): string {
  return `\n\`\`\`mermaid\n${graph}\n\`\`\`\n`;
}

/** Where a block's content lies in the document (throws when its markers are missing, repeated or reversed). */
function markedRange(document: string, name: string): { readonly from: number; readonly to: number } {
  const { start, end } = blockMarkers(name);
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`README.md: marker ${from < 0 ? start : end} is missing (add both ${start} and ${end})`);
  if (document.indexOf(start, from + 1) >= 0 || document.indexOf(end, to + 1) >= 0) throw new Error(`README.md: the ${name} markers must appear once each`);
  if (to < from) throw new Error(`README.md: ${end} comes before ${start}`);
  return { from: from + start.length, to };
}

/** The text between a block's markers. */
export function readMarkedBlock(document: string, name: string): string {
  const { from, to } = markedRange(document, name);
  return document.slice(from, to);
}

/** The document with a block's content replaced (everything outside the markers unchanged). */
export function replaceMarkedBlock(document: string, name: string, content: string): string {
  const { from, to } = markedRange(document, name);
  return document.slice(0, from) + content + document.slice(to);
}

/** A block's graph generated from its ASL. */
export interface GeneratedGraph {
  /** The markers' name. */
  readonly name: string;
  /** The Mermaid text. */
  readonly graph: string;
}

/** The README with every generated block rewritten. */
export function updateReadmeGraphs(readme: string, graphs: readonly GeneratedGraph[]): string {
  return graphs.reduce((document, { name, graph }) => replaceMarkedBlock(document, name, mermaidBlock(graph)), readme);
}

/** One message per block whose README content differs from its generated graph (empty when all are current). */
export function staleReadmeGraphs(readme: string, graphs: readonly GeneratedGraph[]): string[] {
  return graphs
    .filter(({ name, graph }) => readMarkedBlock(readme, name) !== mermaidBlock(graph))
    .map(({ name }) => `README.md's ${name} block is not what its ASL draws: run \`${GRAPH_COMMAND}\``);
}
