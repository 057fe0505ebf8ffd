/**
 * Composite alarm rules (PutCompositeAlarm's AlarmRule): `ALARM("name")`, `OK(name)`,
 * `INSUFFICIENT_DATA("name or ARN")`, `TRUE`, `FALSE`, combined with `AND`, `OR`, `NOT` and parentheses.
 * Keywords are upper case, as CloudWatch documents them. NOT binds tighter than AND, AND tighter than OR.
 */

export type RuleStateFunction = 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';

export type AlarmRuleNode =
  | { readonly kind: 'constant'; readonly value: boolean }
  /** `ALARM(ref)`: true when the alarm `ref` (a name or an alarm ARN, as written) is in that state. */
  | { readonly kind: 'state'; readonly state: RuleStateFunction; readonly alarm: string }
  | { readonly kind: 'not'; readonly operand: AlarmRuleNode }
  | { readonly kind: 'and' | 'or'; readonly left: AlarmRuleNode; readonly right: AlarmRuleNode };

/** An AlarmRule that does not parse; the message says what was expected and where. */
export class AlarmRuleSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlarmRuleSyntaxError';
  }
}

type Token =
  | { readonly kind: 'open' | 'close'; readonly at: number }
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'argument'; readonly text: string; readonly at: number };

const STATE_FUNCTIONS: ReadonlySet<string> = new Set(['ALARM', 'OK', 'INSUFFICIENT_DATA']);

/** Splits a rule into tokens; a state function's argument (quoted or not) is one token. */
function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < rule.length) {
    const char = rule[index]!;
    if (/\s/.test(char)) {
      index += 1;
    } else if (char === '(') {
      tokens.push({ kind: 'open', at: index });
      index += 1;
      const previous = tokens[tokens.length - 2];
      if (previous?.kind === 'word' && STATE_FUNCTIONS.has(previous.text)) index = readArgument(rule, index, tokens);
    } else if (char === ')') {
      tokens.push({ kind: 'close', at: index });
      index += 1;
    } else {
      const match = /^[A-Za-z_]+/.exec(rule.slice(index));
      if (!match) throw new AlarmRuleSyntaxError(`unexpected character '${char}' at position ${index + 1}`);
      tokens.push({ kind: 'word', text: match[0], at: index });
      index += match[0].length;
    }
  }
  return tokens;
}

/** Reads the argument of a state function starting at `start` (just after its '('); returns the index after it. */
function readArgument(rule: string, start: number, tokens: Token[]): number {
  let index = start;
  while (index < rule.length && /\s/.test(rule[index]!)) index += 1;
  if (rule[index] === '"') {
    const end = rule.indexOf('"', index + 1);
    if (end < 0) throw new AlarmRuleSyntaxError(`unterminated quoted alarm name starting at position ${index + 1}`);
    const text = rule.slice(index + 1, end);
    if (text.length === 0) throw new AlarmRuleSyntaxError(`empty alarm name at position ${index + 1}`);
    tokens.push({ kind: 'argument', text, at: index });
    return end + 1;
  }
  const end = rule.indexOf(')', index);
  const text = rule.slice(index, end < 0 ? rule.length : end).trim();
  if (text.length === 0) throw new AlarmRuleSyntaxError(`missing alarm name at position ${index + 1}`);
  tokens.push({ kind: 'argument', text, at: index });
  return end < 0 ? rule.length : end;
}

/** Parses an AlarmRule; throws AlarmRuleSyntaxError naming the position of the first problem. */
export function parseAlarmRule(rule: string): AlarmRuleNode {
  const tokens = tokenize(rule);
  let position = 0;
  const describe = (token: Token | undefined): string =>
    token === undefined
      ? 'the end of the rule'
      : `${token.kind === 'open' ? "'('" : token.kind === 'close' ? "')'" : `'${(token as { text: string }).text}'`} at position ${token.at + 1}`;
  const peekWord = (text: string): boolean => {
    const token = tokens[position];
    return token?.kind === 'word' && token.text === text;
  };
  const expect = (kind: 'open' | 'close', what: string): void => {
    const token = tokens[position];
    if (token?.kind !== kind) throw new AlarmRuleSyntaxError(`expected ${what} but found ${describe(token)}`);
    position += 1;
  };

  const parseOr = (): AlarmRuleNode => {
    let left = parseAnd();
    while (peekWord('OR')) {
      position += 1;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): AlarmRuleNode => {
    let left = parseUnary();
    while (peekWord('AND')) {
      position += 1;
      left = { kind: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): AlarmRuleNode => {
    if (peekWord('NOT')) {
      position += 1;
      return { kind: 'not', operand: parseUnary() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): AlarmRuleNode => {
    const token = tokens[position];
    if (token?.kind === 'open') {
      position += 1;
      const inner = parseOr();
      expect('close', "')'");
      return inner;
    }
    if (token?.kind === 'word' && (token.text === 'TRUE' || token.text === 'FALSE')) {
      position += 1;
      return { kind: 'constant', value: token.text === 'TRUE' };
    }
    if (token?.kind === 'word' && STATE_FUNCTIONS.has(token.text)) {
      position += 1;
      expect('open', `'(' after ${token.text}`);
      const argument = tokens[position];
      if (argument?.kind !== 'argument') throw new AlarmRuleSyntaxError(`expected an alarm name but found ${describe(argument)}`);
      position += 1;
      expect('close', `')' after the alarm name "${argument.text}"`);
      return { kind: 'state', state: token.text as RuleStateFunction, alarm: argument.text };
    }
    throw new AlarmRuleSyntaxError(`expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '(' but found ${describe(token)}`);
  };

  const tree = parseOr();
  if (position < tokens.length) throw new AlarmRuleSyntaxError(`expected AND, OR or the end of the rule but found ${describe(tokens[position])}`);
  return tree;
}

/** Every alarm reference of a rule (names or ARNs as written), in order of appearance, without repeats. */
export function alarmReferences(node: AlarmRuleNode): string[] {
  const found: string[] = [];
  const visit = (current: AlarmRuleNode): void => {
    switch (current.kind) {
      case 'constant':
        return;
      case 'state':
        if (!found.includes(current.alarm)) found.push(current.alarm);
        return;
      case 'not':
        visit(current.operand);
        return;
      case 'and':
      case 'or':
        visit(current.left);
        visit(current.right);
        return;
    }
  };
  visit(node);
  return found;
}

/** Number of alarm functions and TRUE/FALSE constants of a rule (CloudWatch allows 500 elements; parentheses are not counted here). */
export function ruleElementCount(node: AlarmRuleNode): number {
  switch (node.kind) {
    case 'constant':
    case 'state':
      return 1;
    case 'not':
      return ruleElementCount(node.operand);
    case 'and':
    case 'or':
      return ruleElementCount(node.left) + ruleElementCount(node.right);
  }
}

/** Whether the rule holds, given each referenced alarm's current state. */
export function evaluateAlarmRule(node: AlarmRuleNode, stateOf: (alarm: string) => string | undefined): boolean {
  switch (node.kind) {
    case 'constant':
      return node.value;
    case 'state':
      return stateOf(node.alarm) === node.state;
    case 'not':
      return !evaluateAlarmRule(node.operand, stateOf);
    case 'and':
      return evaluateAlarmRule(node.left, stateOf) && evaluateAlarmRule(node.right, stateOf);
    case 'or':
      return evaluateAlarmRule(node.left, stateOf) || evaluateAlarmRule(node.right, stateOf);
  }
}

/** The state functions of a rule that hold now (the alarms that make an ALARM rule true: "triggering alarms"). */
export function satisfiedStateFunctions(node: AlarmRuleNode, stateOf: (alarm: string) => string | undefined): { alarm: string; state: RuleStateFunction }[] {
  const found: { alarm: string; state: RuleStateFunction }[] = [];
  const visit = (current: AlarmRuleNode): void => {
    if (current.kind === 'state') {
      if (stateOf(current.alarm) === current.state && !found.some((entry) => entry.alarm === current.alarm)) found.push({ alarm: current.alarm, state: current.state });
    } else if (current.kind === 'not') {
      visit(current.operand);
    } else if (current.kind === 'and' || current.kind === 'or') {
      visit(current.left);
      visit(current.right);
    }
  };
  visit(node);
  return found;
}
