/**
 * A minimal XML reader for tshark's PDML output (`tshark -T pdml`): elements with attributes, no
 * text content. PDML keeps every dissected field in wire order with its position and size, which
 * is what a field-by-field comparison needs (tshark's JSON output merges repeated field names).
 *
 *   <pdml> <packet> <proto name=".." pos=".." size=".."> <field name=".." showname=".." show=".."
 *   value="hex" pos=".." size=".."> nested <field/>s </field> </proto> </packet> </pdml>
 */

export interface XmlElement {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e[0] !== '#') return ENTITIES[e];
    return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

const ATTR = /([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** Parses an XML document into its root element; throws on unbalanced tags. */
export function parseXml(text: string): XmlElement {
  const root: XmlElement = { tag: '#document', attrs: {}, children: [] };
  const stack: XmlElement[] = [root];
  const tag = /<(\/?)([A-Za-z_][-A-Za-z0-9_:.]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<![^>]*>/g;
  let m: RegExpExecArray | null;
  while ((m = tag.exec(text)) !== null) {
    if (m[2] === undefined) continue; // declaration, processing instruction, comment
    const [, closing, name, rawAttrs, selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (!open || open.tag !== name) throw new Error(`XML: </${name}> at ${m.index} closes <${open?.tag}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(ATTR)) attrs[a[1]] = unescape(a[2] ?? a[3]);
    const el: XmlElement = { tag: name, attrs, children: [] };
    stack[stack.length - 1].children.push(el);
    if (!selfClosing) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`XML: <${stack[stack.length - 1].tag}> is never closed`);
  return root;
}

/** Depth-first walk over an element and its descendants. */
export function* walk(el: XmlElement): Generator<XmlElement> {
  yield el;
  for (const c of el.children) yield* walk(c);
}
