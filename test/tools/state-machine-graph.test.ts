import { readFileSync } from 'node:fs';
import {
  blockMarkers,
  choiceRuleLabel,
  escapeMermaidLabel,
  mermaidBlock,
  readMarkedBlock,
  README_GRAPH_BLOCKS,
  README_PATH,
  staleReadmeGraphs,
  stateMachineGraph,
  updateReadmeGraphs,
  type AslState,
} from '../../tools/state-machine-graph';

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const ROLLOUT_BLOCK = README_GRAPH_BLOCKS.find((block) => block.name === 'state-machine-graph')!;
const RECONCILER_BLOCK = README_GRAPH_BLOCKS.find((block) => block.name === 'reconciler-graph')!;

/** One state of each drawn kind, a Catch of each label form, and a name that needs escaping. */
const SMALL_ASL = {
  StartAt: 'Do work',
  States: {
    'Do work': {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Next: 'Done?',
      Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2 }],
      Catch: [
        { ErrorEquals: ['Busy', 'Throttled'], Next: 'Pause' },
        { ErrorEquals: ['States.ALL'], Next: 'Broke "badly" [x]' },
      ],
    },
    'Done?': {
      Type: 'Choice',
      Choices: [
        { Variable: '$.result.status', StringEquals: 'DONE', Next: 'Finished' },
        { Variable: '$.result.retryable', BooleanEquals: true, Next: 'Pause' },
      ],
      Default: 'Broke "badly" [x]',
    },
    Pause: { Type: 'Wait', Seconds: 30, Next: 'Note' },
    Note: { Type: 'Pass', Next: 'Do work' },
    Finished: { Type: 'Succeed' },
    'Broke "badly" [x]': { Type: 'Fail', Error: 'Broke' },
  },
};

const SMALL_GRAPH = [
  'flowchart TD',
  '  s0["Do work"]',
  '  s1{"Done?"}',
  '  s2(["Pause<br/>wait 30 s"])',
  '  s3[["Note"]]',
  '  s4(("Finished"))',
  '  s5(("Broke #quot;badly#quot; #91;x#93;"))',
  '  s0 --> s1',
  '  s0 -.->|"Busy"| s2',
  '  s0 -.->|"error"| s5',
  '  s1 -->|"DONE"| s4',
  '  s1 -->|"retryable"| s2',
  '  s1 -->|"otherwise"| s5',
  '  s2 --> s3',
  '  s3 --> s0',
  '  classDef succeed fill:#d3f0d9,stroke:#2e7d32,color:#1b5e20',
  '  classDef fail fill:#fbd9d9,stroke:#c62828,color:#8e1c1c',
  '  class s4 succeed',
  '  class s5 fail',
].join('\n');

/** Undoes escapeMermaidLabel's entity codes, as Mermaid does when it renders a label. */
function decodeLabel(label: string): string {
  return label.replace(/#quot;/g, '"').replace(/#amp;/g, '&').replace(/#lt;/g, '<').replace(/#gt;/g, '>').replace(/#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

/** The nodes the Mermaid text declares (plain nodes and Map / Parallel subgraphs), read back from the text. */
function declaredNodes(graph: string): Array<{ id: string; name: string }> {
  const nodes: Array<{ id: string; name: string }> = [];
  for (const line of graph.split('\n')) {
    const match = /^\s*(?:subgraph )?(s\d+)(?:\[\[|\[|\{|\(\[|\(\()"([^"]*)"/.exec(line);
    if (match) nodes.push({ id: match[1], name: decodeLabel(match[2].replace(/<br\/>.*$/, '')) });
  }
  return nodes;
}

/** Every state of a definition, nested ones included, with its name. */
function allStates(scope: { States: Record<string, AslState> }): Array<[string, AslState]> {
  return Object.entries(scope.States).flatMap(([name, state]): Array<[string, AslState]> => {
    const inner = [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].filter((s) => s !== undefined);
    return [[name, state], ...inner.flatMap((s) => allStates(s as { States: Record<string, AslState> }))];
  });
}

describe('stateMachineGraph', () => {
  test('draws each state kind, Next, Choice and Catch edges exactly as specified (Retry not drawn)', () => {
    expect(stateMachineGraph(SMALL_ASL)).toBe(SMALL_GRAPH);
  });

  test('is deterministic', () => {
    expect(stateMachineGraph(structuredClone(SMALL_ASL))).toBe(stateMachineGraph(SMALL_ASL));
  });

  test('draws a Map and a Parallel as subgraphs holding their inner states, edges resolved in their own scope', () => {
    const graph = stateMachineGraph({
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Task', Next: 'Item done' }, 'Item done': { Type: 'Succeed' } } },
          Next: 'Both',
        },
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Left', States: { Left: { Type: 'Pass', End: true } } },
            { StartAt: 'Right', States: { Right: { Type: 'Wait', SecondsPath: '$.delay.seconds', End: true } } },
          ],
          Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'Gave up' }],
          End: true,
        },
        'Gave up': { Type: 'Fail' },
      },
    });
    expect(graph.split('\n').slice(1, 17)).toEqual([
      '  subgraph s0["Each"]',
      '    s1["Item"]',
      '    s2(("Item done"))',
      '  end',
      '  subgraph s3["Both"]',
      '    subgraph s3_b1["branch 1"]',
      '      s4[["Left"]]',
      '    end',
      '    subgraph s3_b2["branch 2"]',
      '      s5(["Right<br/>wait seconds"])',
      '    end',
      '  end',
      '  s6(("Gave up"))',
      '  s0 --> s3',
      '  s1 --> s2',
      '  s3 -.->|"States.Timeout"| s6',
    ]);
  });

  test('labels Choice rules shortly: values, fields, comparisons, And / Or / Not', () => {
    expect(choiceRuleLabel({ Variable: '$.lock.decision', StringEquals: 'WAIT' })).toBe('WAIT');
    expect(choiceRuleLabel({ Variable: '$.plan.firstDeployment', BooleanEquals: false })).toBe('not firstDeployment');
    expect(choiceRuleLabel({ Variable: '$.stats.count', NumericGreaterThanEquals: 5 })).toBe('count >= 5');
    expect(choiceRuleLabel({ Variable: '$.a.b', StringEqualsPath: '$.plan.expected' })).toBe('b = expected');
    expect(choiceRuleLabel({ Variable: '$.detail.cause', IsPresent: false })).toBe('cause absent');
    expect(
      choiceRuleLabel({ Or: [{ Variable: '$.x', StringEquals: 'DONE' }, { Not: { Variable: '$.y.ok', IsNull: true } }] }),
    ).toBe('DONE or not ok is null');
  });

  test('escapes quotes, brackets and HTML characters in labels', () => {
    expect(escapeMermaidLabel('a "b" [c] (d) {e} <f> & #g | h')).toBe(
      'a #quot;b#quot; #91;c#93; #40;d#41; #123;e#125; #lt;f#gt; #amp; #35;g #124; h',
    );
    expect(decodeLabel(escapeMermaidLabel('Release rollout (rollback "blocked") #1'))).toBe('Release rollout (rollback "blocked") #1');
  });

  test('refuses a transition to a state outside its scope, naming the field', () => {
    const broken = structuredClone(SMALL_ASL);
    broken.States['Done?'].Choices[1].Next = 'Nowhere';
    expect(() => stateMachineGraph(broken)).toThrow('States["Done?"].Choices[1].Next: "Nowhere" is not a state of this scope');
  });

  test('refuses what is not ASL, naming the field', () => {
    expect(() => stateMachineGraph({ StartAt: 'A', States: { A: { Type: 'Sleep' } } })).toThrow(/States\.A\.Type: must be one of Task, Pass/);
    expect(() => stateMachineGraph({ StartAt: 'B', States: { A: { Type: 'Succeed' } } })).toThrow('StartAt: "B" is not a state of the state machine');
  });
});

describe.each([
  ['rollout', ROLLOUT_BLOCK.aslPath],
  ['reconciler', RECONCILER_BLOCK.aslPath],
])('the real %s state machine', (_, aslPath) => {
  const definition = readJson(aslPath) as { States: Record<string, AslState> };
  const graph = stateMachineGraph(definition);
  const nodes = declaredNodes(graph);
  const idOf = new Map(nodes.map((node) => [node.name, node.id]));
  const states = allStates(definition);

  test('has unique node ids', () => {
    expect(nodes.length).toBeGreaterThan(0);
    expect(new Set(nodes.map((node) => node.id)).size).toBe(nodes.length);
  });

  test('draws every state exactly once as a node, and nothing else', () => {
    expect(nodes.map((node) => node.name).sort()).toEqual(states.map(([name]) => name).sort());
  });

  test('draws every Next, Choice and Catch transition, and no other edge', () => {
    const lines = new Set(graph.split('\n'));
    const expected: RegExp[] = [];
    const edge = (from: string, arrow: string, to: string, label?: string): RegExp => {
      const labelPattern = label === undefined ? '' : `\\|"${label}"\\|`;
      return new RegExp(`^  ${idOf.get(from)} ${arrow.replace(/\./g, '\\.')}${labelPattern} ${idOf.get(to)}$`);
    };
    for (const [name, state] of states) {
      if (state.Next) expected.push(edge(name, '-->', state.Next));
      for (const rule of state.Choices ?? []) expected.push(edge(name, '-->', rule.Next!, '[^"]+'));
      if (state.Default) expected.push(edge(name, '-->', state.Default, 'otherwise'));
      for (const catcher of state.Catch ?? []) expected.push(edge(name, '-.->', catcher.Next, catcher.ErrorEquals[0] === 'States.ALL' ? 'error' : catcher.ErrorEquals[0]));
    }
    for (const pattern of expected) expect([...lines].filter((line) => pattern.test(line))).toHaveLength(1);
    expect(graph.split('\n').filter((line) => / (-->|-\.->)/.test(line))).toHaveLength(expected.length);
  });

  test('colours every Succeed green and every Fail red', () => {
    for (const [type, cls] of [['Succeed', 'succeed'], ['Fail', 'fail']] as const) {
      const ids = states.filter(([, state]) => state.Type === type).map(([name]) => idOf.get(name));
      const classLine = graph.split('\n').find((line) => line.startsWith('  class ') && line.endsWith(` ${cls}`));
      expect(classLine?.slice('  class '.length, -` ${cls}`.length).split(',')).toEqual(ids);
    }
  });
});

describe('README.md', () => {
  const readme = readFileSync(README_PATH, 'utf8');
  const graphs = README_GRAPH_BLOCKS.map(({ name, aslPath }) => ({ name, graph: stateMachineGraph(readJson(aslPath)) }));

  test('holds the graphs the current ASL files draw (if not: run `npm run graph`)', () => {
    expect(staleReadmeGraphs(readme, graphs)).toEqual([]);
    for (const { name, graph } of graphs) expect(readMarkedBlock(readme, name)).toBe(mermaidBlock(graph));
  });

  test('a stale block is reported with the fix, and redrawing restores it without touching the text around it', () => {
    const stale = readme.replace('s0["Resolve rollout"]', 's0["Resolve the rollout"]');
    expect(stale).not.toBe(readme);
    expect(staleReadmeGraphs(stale, graphs)).toEqual(["README.md's state-machine-graph block is not what its ASL draws: run `npm run graph`"]);
    expect(updateReadmeGraphs(stale, graphs)).toBe(readme);
  });

  test('puts the rollout graph under "## The state machine", the reconciler graph right after it', () => {
    const section = readme.indexOf('\n## The state machine\n');
    const rolloutEnd = readme.indexOf(blockMarkers('state-machine-graph').end);
    const reconcilerStart = readme.indexOf(blockMarkers('reconciler-graph').start);
    const nextSection = readme.indexOf('\n## ', section + 1);
    expect(section).toBeGreaterThan(0);
    expect(section).toBeLessThan(readme.indexOf(blockMarkers('state-machine-graph').start));
    expect(rolloutEnd).toBeLessThan(reconcilerStart);
    expect(readme.indexOf(blockMarkers('reconciler-graph').end)).toBeLessThan(nextSection);
  });

  test('missing markers are named', () => {
    expect(() => readMarkedBlock('no markers here', 'reconciler-graph')).toThrow('marker <!-- reconciler-graph:start --> is missing');
  });
});
