/**
 * Label and field selectors in their query-string form, as the Kubernetes API server parses them.
 *
 * Label selector grammar (k8s.io/apimachinery labels.Parse):
 *   selector    ::= requirement ("," requirement)*
 *   requirement ::= ["!"] KEY [ ("in" | "notin") "(" VALUE ("," VALUE)* ")" | ("=" | "==" | "!=") VALUE ]
 * Field selector grammar (fields.ParseSelector):
 *   selector    ::= term ("," term)*
 *   term        ::= FIELD ("=" | "==" | "!=") VALUE        (VALUE may escape "\," "\=" "\\")
 */

export class SelectorParseError extends Error {}

type Labels = Readonly<Record<string, string>>;
export type LabelPredicate = (labels: Labels) => boolean;

type Token =
  | { t: 'word'; v: string }
  | { t: 'op'; v: '!' | '=' | '==' | '!=' | '(' | ')' | ',' };

function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '!' && s[i + 1] === '=') {
      tokens.push({ t: 'op', v: '!=' });
      i += 2;
    } else if (c === '=' && s[i + 1] === '=') {
      tokens.push({ t: 'op', v: '==' });
      i += 2;
    } else if (c === '!' || c === '=' || c === '(' || c === ')' || c === ',') {
      tokens.push({ t: 'op', v: c });
      i++;
    } else if (/[A-Za-z0-9._/-]/.test(c)) {
      let j = i;
      while (j < s.length && /[A-Za-z0-9._/-]/.test(s[j])) j++;
      tokens.push({ t: 'word', v: s.slice(i, j) });
      i = j;
    } else {
      throw new SelectorParseError(`unexpected character ${JSON.stringify(c)} at ${i} in label selector`);
    }
  }
  return tokens;
}

/** Parses a label selector string; the empty string selects everything. */
export function parseLabelSelector(selector: string): LabelPredicate {
  const tokens = tokenize(selector);
  const requirements: LabelPredicate[] = [];
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const word = (what: string): string => {
    const tok = tokens[i++];
    if (tok === undefined || tok.t !== 'word') throw new SelectorParseError(`expected ${what} in label selector`);
    return tok.v;
  };
  while (i < tokens.length) {
    let negated = false;
    if (peek()?.v === '!') {
      negated = true;
      i++;
    }
    const key = word('key');
    const next = peek();
    if (negated) {
      if (next !== undefined && next.v !== ',') throw new SelectorParseError('"!key" takes no operator');
      requirements.push((l) => !(key in l));
    } else if (next === undefined || next.v === ',') {
      requirements.push((l) => key in l);
    } else if (next.t === 'op' && (next.v === '=' || next.v === '==' || next.v === '!=')) {
      i++;
      const value = peek()?.t === 'word' ? word('value') : '';
      if (next.v === '!=') requirements.push((l) => l[key] !== value);
      else requirements.push((l) => l[key] === value);
    } else if (next.t === 'word' && (next.v === 'in' || next.v === 'notin')) {
      i++;
      if (tokens[i++]?.v !== '(') throw new SelectorParseError(`expected "(" after ${next.v}`);
      const values = new Set<string>();
      while (peek()?.v !== ')') {
        values.add(peek()?.t === 'word' ? word('value') : '');
        if (peek()?.v === ',') i++;
        else if (peek()?.v !== ')') throw new SelectorParseError('expected "," or ")" in value set');
      }
      i++;
      if (next.v === 'in') requirements.push((l) => key in l && values.has(l[key]));
      else requirements.push((l) => !(key in l) || !values.has(l[key]));
    } else {
      throw new SelectorParseError(`unexpected ${JSON.stringify(next.v)} after key ${key}`);
    }
    const sep = tokens[i++];
    if (sep !== undefined && sep.v !== ',') throw new SelectorParseError(`expected "," in label selector`);
  }
  return (labels) => requirements.every((r) => r(labels));
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Parses a field selector string into its terms; the empty string yields no terms. */
export function parseFieldSelector(selector: string): FieldRequirement[] {
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '\\' && i + 1 < selector.length) {
      cur += c + selector[++i];
    } else if (c === ',') {
      terms.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (cur !== '' || terms.length > 0) terms.push(cur);
  return terms.map((term) => {
    const m = /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/.exec(term.trim());
    if (m === null) throw new SelectorParseError(`invalid field selector term ${JSON.stringify(term)}`);
    const value = m[3].replace(/\\(.)/g, '$1');
    return { field: m[1].trim(), op: m[2] === '!=' ? '!=' : '=', value };
  });
}

/** The string value of a dotted field path as the API server compares it ("" when absent). */
export function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return path === 'spec.hostNetwork' ? 'false' : '';
  return String(cur);
}
