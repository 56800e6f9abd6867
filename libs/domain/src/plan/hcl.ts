import {
  nearest,
  parseConfigYaml,
  validateConfig,
  type ConfigError,
  type ParseResult,
} from './parse';

/**
 * snowline.hcl: the HCL (HCL2 native syntax) subset a snowline file needs, parsed by recursive
 * descent and checked by the same validation as snowline.yaml, so both say the same things at the
 * same file:line:column.
 *
 *   version = 1
 *   validator "fuji-a" {            # → validators.fuji-a
 *     network = "fuji"
 *     labels  = { team = "core" }
 *     identity { staker_crt = "keys/a/staker.crt" … }
 *   }
 *   webhook "pager" { url = "https://…"  secret_env = "PAGER_SECRET" }   # → webhooks.pager
 *   standby_pool "fuji" { cn-hongkong-b = 2 }                            # → standby_pools.fuji
 *
 * Supported: blocks with labels, attributes, strings (with escapes), numbers, true/false/null,
 * lists, objects, comments (#, //, /* *\/). Refused with a message: expressions (references,
 * function calls, operators), template interpolation `${…}` and heredocs — a config file here holds
 * values only. No npm HCL2 parser was both maintained and able to give positions (see README).
 */

interface Pos {
  line: number;
  column: number;
}

type TokKind =
  'ident' | 'string' | 'number' | '{' | '}' | '[' | ']' | '=' | ':' | ',' | 'newline' | 'eof';

interface Token extends Pos {
  kind: TokKind;
  /** Identifier text, decoded string or number source. */
  text: string;
}

class HclSyntaxError extends Error {
  constructor(
    readonly pos: Pos,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Limits that keep a hostile or broken file from exhausting the CLI: the parser recurses per level,
 * so depth is capped well below the stack; a real file nests 3 deep (validator → identity/labels)
 * and 1000 validators fit in a few hundred KiB.
 */
export const MAX_HCL_DEPTH = 32;
export const MAX_HCL_BYTES = 2 * 1024 * 1024;

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_-]/;

/** Splits the text into tokens with their line and column (1-based). */
export function tokenizeHcl(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  const at = (): Pos => ({ line, column: col });
  const advance = (n = 1) => {
    for (let k = 0; k < n; k++) {
      if (text[i] === '\n') {
        line++;
        col = 1;
      } else col++;
      i++;
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    const start = at();
    if (c === '\n') {
      out.push({ kind: 'newline', text: '\n', ...start });
      advance();
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\uFEFF') advance();
    else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') advance();
    } else if (c === '/' && text[i + 1] === '*') {
      advance(2);
      let hadNewline = false;
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) {
        if (text[i] === '\n') hadNewline = true;
        advance();
      }
      if (i >= text.length) throw new HclSyntaxError(start, 'unterminated /* comment');
      advance(2);
      // A block comment across lines ends the line it started on, as in HCL.
      if (hadNewline) out.push({ kind: 'newline', text: '\n', ...start });
    } else if ('{}[]=:,'.includes(c)) {
      out.push({ kind: c as TokKind, text: c, ...start });
      advance();
    } else if (c === '"') out.push({ kind: 'string', text: readString(), ...start });
    else if (c === '<' && text[i + 1] === '<')
      throw new HclSyntaxError(start, 'heredoc strings (<<EOT) are not supported; use "…"');
    else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i))!;
      out.push({ kind: 'number', text: m[0], ...start });
      advance(m[0].length);
      if (IDENT_PART.test(text[i] ?? ''))
        throw new HclSyntaxError(start, `"${m[0]}${text[i]}…" is not a number; quote it`);
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < text.length && IDENT_PART.test(text[j]!)) j++;
      out.push({ kind: 'ident', text: text.slice(i, j), ...start });
      advance(j - i);
    } else throw new HclSyntaxError(start, `unexpected character ${JSON.stringify(c)}`);
  }
  out.push({ kind: 'eof', text: '', ...at() });
  return out;

  function readString(): string {
    const start = at();
    advance(); // opening quote
    let s = '';
    for (;;) {
      if (i >= text.length || text[i] === '\n')
        throw new HclSyntaxError(start, 'unterminated string: a closing " is missing');
      const c = text[i]!;
      if (c === '"') {
        advance();
        return s;
      }
      if (c === '\\') {
        const e = text[i + 1];
        const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };
        if (e !== undefined && e in esc) {
          s += esc[e];
          advance(2);
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          s += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          advance(6);
        } else throw new HclSyntaxError(at(), `unknown escape \\${e ?? ''} in a string`);
      } else if ((c === '$' || c === '%') && text[i + 1] === '{') {
        throw new HclSyntaxError(
          at(),
          `template ${c}{…} is not supported: a snowline file holds plain values (write ${c}${c}{ for a literal ${c}{)`,
        );
      } else if ((c === '$' || c === '%') && text[i + 1] === c && text[i + 2] === '{') {
        s += `${c}{`;
        advance(3);
      } else {
        s += c;
        advance();
      }
    }
  }
}

/** A value with where it sits; objects keep each key's position too. */
type Node =
  | { kind: 'scalar'; value: string | number | boolean | null; pos: Pos }
  | { kind: 'list'; items: Node[]; pos: Pos }
  | { kind: 'object'; entries: { key: string; keyPos: Pos; value: Node }[]; pos: Pos };

interface Attribute {
  kind: 'attribute';
  name: string;
  pos: Pos;
  value: Node;
}
interface Block {
  kind: 'block';
  type: string;
  pos: Pos;
  labels: { text: string; pos: Pos }[];
  body: (Attribute | Block)[];
  open: Pos;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly toks: Token[]) {}

  /** Runs `inside` one nesting level deeper (a block body, a list, an object), within the limit. */
  private nested<T>(open: Token, inside: () => T): T {
    if (this.depth >= MAX_HCL_DEPTH)
      throw new HclSyntaxError(
        open,
        `nesting deeper than ${MAX_HCL_DEPTH} levels of blocks, lists and objects (the limit is MAX_HCL_DEPTH = ${MAX_HCL_DEPTH})`,
      );
    this.depth++;
    try {
      return inside();
    } finally {
      this.depth--;
    }
  }

  /** The current token (a method, so TypeScript does not narrow it across next()). */
  private peek(): Token {
    return this.toks[this.i]!;
  }
  private next(): Token {
    return this.toks[this.i++]!;
  }
  private skipNewlines() {
    while (this.peek().kind === 'newline') this.i++;
  }
  private fail(tok: Token, expected: string): never {
    const found =
      tok.kind === 'eof'
        ? 'the end of the file'
        : tok.kind === 'newline'
          ? 'the end of the line'
          : tok.kind === 'string'
            ? `"${tok.text}"`
            : `"${tok.text}"`;
    throw new HclSyntaxError(tok, `expected ${expected}, found ${found}`);
  }

  /** body := (attribute | block)* up to `end` */
  body(end: 'eof' | '}'): (Attribute | Block)[] {
    const items: (Attribute | Block)[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.peek().kind === end) return items;
      if (this.peek().kind !== 'ident')
        this.fail(
          this.peek(),
          end === '}' ? 'an attribute name, a block or "}"' : 'an attribute name or a block',
        );
      const name = this.next();
      if (this.peek().kind === '=') {
        this.next();
        const value = this.expr();
        if (
          this.peek().kind !== 'newline' &&
          this.peek().kind !== 'eof' &&
          this.peek().kind !== '}'
        )
          this.fail(this.peek(), `a new line after the value of ${name.text}`);
        items.push({ kind: 'attribute', name: name.text, pos: name, value });
        continue;
      }
      const labels: { text: string; pos: Pos }[] = [];
      while (this.peek().kind === 'string' || this.peek().kind === 'ident') {
        const l = this.next();
        labels.push({ text: l.text, pos: l });
      }
      if (this.peek().kind !== '{')
        this.fail(
          this.peek(),
          labels.length ? '"{" to open the block' : `"=" or a block after ${name.text}`,
        );
      const open = this.next();
      const body = this.nested(open, () => this.body('}'));
      this.next(); // }
      if (this.peek().kind !== 'newline' && this.peek().kind !== 'eof' && this.peek().kind !== '}')
        this.fail(this.peek(), 'a new line after "}"');
      items.push({ kind: 'block', type: name.text, pos: name, labels, body, open });
    }
  }

  /** expr := string | number | true | false | null | list | object (literals only). */
  private expr(): Node {
    const tok = this.peek();
    switch (tok.kind) {
      case 'string':
        this.next();
        return { kind: 'scalar', value: tok.text, pos: tok };
      case 'number':
        this.next();
        return { kind: 'scalar', value: Number(tok.text), pos: tok };
      case 'ident': {
        this.next();
        if (tok.text === 'true' || tok.text === 'false')
          return { kind: 'scalar', value: tok.text === 'true', pos: tok };
        if (tok.text === 'null') return { kind: 'scalar', value: null, pos: tok };
        throw new HclSyntaxError(
          tok,
          `${tok.text} is not a value: references and functions are not supported; quote a string ("${tok.text}")`,
        );
      }
      case '[':
        return this.nested(tok, () => this.list());
      case '{':
        return this.nested(tok, () => this.object());
      default:
        return this.fail(tok, 'a value (a "string", a number, true, false, [list] or {object})');
    }
  }

  private list(): Node {
    const open = this.next();
    const items: Node[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.peek().kind === ']') {
        this.next();
        return { kind: 'list', items, pos: open };
      }
      items.push(this.expr());
      this.skipNewlines();
      if (this.peek().kind === ',') this.next();
      else if (this.peek().kind !== ']') this.fail(this.peek(), '"," or "]"');
    }
  }

  private object(): Node {
    const open = this.next();
    const entries: { key: string; keyPos: Pos; value: Node }[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.peek().kind === '}') {
        this.next();
        return { kind: 'object', entries, pos: open };
      }
      const key = this.peek();
      if (key.kind !== 'ident' && key.kind !== 'string') this.fail(key, 'a key or "}"');
      this.next();
      if (this.peek().kind !== '=' && this.peek().kind !== ':')
        this.fail(this.peek(), `"=" after ${key.text}`);
      this.next();
      const dup = entries.find((e) => e.key === key.text);
      if (dup)
        throw new HclSyntaxError(
          key,
          `duplicate key ${key.text} (first at line ${dup.keyPos.line}, column ${dup.keyPos.column})`,
        );
      entries.push({ key: key.text, keyPos: key, value: this.expr() });
      if (this.peek().kind === ',') this.next();
      else if (this.peek().kind !== 'newline' && this.peek().kind !== '}')
        this.fail(this.peek(), '",", a new line or "}"');
    }
  }
}

/** The file's top-level blocks and what they become in the shared config shape. */
const TOP_BLOCKS: Record<string, string> = {
  validator: 'validators',
  webhook: 'webhooks',
  standby_pool: 'standby_pools',
};
const TOP_ATTRIBUTES = ['version'];

type Path = (string | number)[];
type Spot = { key: Pos; value: Pos };

/**
 * Parses and validates snowline.hcl into the same config as snowline.yaml; every error names
 * file:line:column. Pure (no file I/O).
 */
export function parseConfigHcl(text: string, file = 'snowline.hcl'): ParseResult {
  const syntax = (pos: Pos, message: string): ParseResult => ({
    ok: false,
    errors: [{ file, line: pos.line, column: pos.column, path: '', message }],
  });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_HCL_BYTES)
    return syntax(
      { line: 1, column: 1 },
      `the file is ${bytes} bytes, over the size limit of ${MAX_HCL_BYTES} bytes (MAX_HCL_BYTES, 2 MiB)`,
    );
  let items: (Attribute | Block)[];
  try {
    items = new Parser(tokenizeHcl(text)).body('eof');
  } catch (err) {
    if (err instanceof HclSyntaxError) return syntax(err.pos, `HCL syntax error: ${err.message}`);
    throw err;
  }
  const spots = new Map<string, Spot>();
  const mark = (path: Path, key: Pos, value: Pos) =>
    spots.set(JSON.stringify(path), { key, value });
  const errors: ConfigError[] = [];
  const err = (pos: Pos, path: Path, message: string) =>
    errors.push({ file, line: pos.line, column: pos.column, path: path.join('.'), message });

  const toJs = (n: Node, path: Path): unknown => {
    if (n.kind === 'scalar') return n.value;
    if (n.kind === 'list')
      return n.items.map((item, k) => {
        mark([...path, k], item.pos, item.pos);
        return toJs(item, [...path, k]);
      });
    const o: Record<string, unknown> = {};
    for (const e of n.entries) {
      mark([...path, e.key], e.keyPos, e.value.pos);
      o[e.key] = toJs(e.value, [...path, e.key]);
    }
    return o;
  };
  /** A block's body as an object: attributes, and label-less nested blocks as object values. */
  const bodyToJs = (body: (Attribute | Block)[], path: Path, where: string) => {
    const o: Record<string, unknown> = {};
    const seen = new Map<string, Pos>();
    for (const item of body) {
      const name = item.kind === 'attribute' ? item.name : item.type;
      const first = seen.get(name);
      if (first) {
        err(
          item.pos,
          [...path, name],
          `${where}: ${name} is set twice (first at line ${first.line}, column ${first.column})`,
        );
        continue;
      }
      seen.set(name, item.pos);
      if (item.kind === 'attribute') {
        mark([...path, name], item.pos, item.value.pos);
        o[name] = toJs(item.value, [...path, name]);
      } else if (item.labels.length) {
        err(item.labels[0]!.pos, [...path, name], `${where}: block ${name} takes no labels`);
      } else {
        mark([...path, name], item.pos, item.open);
        o[name] = bodyToJs(item.body, [...path, name], `${where}.${name}`);
      }
    }
    return o;
  };

  const raw: Record<string, unknown> = {};
  const sections: Record<string, Record<string, unknown>> = {};
  for (const item of items) {
    if (item.kind === 'attribute') {
      if (!TOP_ATTRIBUTES.includes(item.name)) {
        const hint = nearest(item.name, [...TOP_ATTRIBUTES, ...Object.keys(TOP_BLOCKS)]);
        err(
          item.pos,
          [item.name],
          `unknown attribute "${item.name}" at the top level${hint ? `; did you mean "${hint}"?` : `; known: version, and blocks ${Object.keys(TOP_BLOCKS).join(', ')}`}`,
        );
        continue;
      }
      mark([item.name], item.pos, item.value.pos);
      raw[item.name] = toJs(item.value, [item.name]);
      continue;
    }
    const section = TOP_BLOCKS[item.type];
    if (!section) {
      const hint = nearest(item.type, Object.keys(TOP_BLOCKS));
      err(
        item.pos,
        [item.type],
        `unknown block "${item.type}"${hint ? `; did you mean "${hint}"?` : `; known blocks: ${Object.keys(TOP_BLOCKS).join(', ')}`}`,
      );
      continue;
    }
    if (item.labels.length !== 1) {
      const what = item.type === 'standby_pool' ? 'a network, e.g. "fuji"' : 'a name';
      err(
        item.labels[1]?.pos ?? item.pos,
        [section],
        `block ${item.type} takes exactly one label: ${what} (${item.type} "…" { … })`,
      );
      continue;
    }
    const label = item.labels[0]!;
    const map = (sections[section] ??= {});
    const path = [section, label.text];
    if (label.text in map) {
      const first = spots.get(JSON.stringify(path))!.key;
      err(
        label.pos,
        path,
        `${item.type} "${label.text}" is declared twice (first at line ${first.line}, column ${first.column})`,
      );
      continue;
    }
    mark(path, label.pos, item.open);
    map[label.text] = bodyToJs(item.body, path, `${section}.${label.text}`);
  }
  if (errors.length) return { ok: false, errors };
  // An empty file is refused like an empty snowline.yaml, not read as "no validators".
  if (!items.length) return validateConfig(null, file);
  raw.validators = sections.validators ?? {};
  if (sections.webhooks) raw.webhooks = sections.webhooks;
  if (sections.standby_pools) raw.standby_pools = sections.standby_pools;
  const locate = (path: Path, at: 'key' | 'value') => {
    for (let n = path.length; n > 0; n--) {
      const spot = spots.get(JSON.stringify(path.slice(0, n)));
      if (spot) return n === path.length ? spot[at] : spot.value;
    }
    return { line: 1, column: 1 };
  };
  return validateConfig(raw, file, locate);
}

/** snowline.hcl or snowline.yaml, by the file's extension. */
export function parseConfigText(text: string, file: string): ParseResult {
  return /\.hcl$/i.test(file) ? parseConfigHcl(text, file) : parseConfigYaml(text, file);
}
