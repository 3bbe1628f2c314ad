// A small, strict XML reader for the JUnit spec: enough to prove the file is
// well-formed (every tag closed in order, attributes quoted, entities known)
// and to walk it. No dependency for one test.

export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string, at: number): string {
  if (/[<]/.test(s)) throw new Error(`raw "<" in text or attribute near offset ${at}`);
  return s.replace(/&([^;]*);|&/g, (m, name: string | undefined) => {
    if (name === undefined) throw new Error(`bare "&" near offset ${at}`);
    if (name in ENTITIES) return ENTITIES[name]!;
    const n = /^#\d+$/.test(name) ? Number(name.slice(1)) : /^#x[0-9a-f]+$/i.test(name) ? parseInt(name.slice(2), 16) : undefined;
    if (n === undefined) throw new Error(`unknown entity ${m} near offset ${at}`);
    return String.fromCodePoint(n);
  });
}

export function parseXml(text: string): XmlElement {
  const tag = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*\s*=\s*"[^"]*")*)\s*(\/?)>/y;
  const attr = /([A-Za-z_][\w.-]*)\s*=\s*"([^"]*)"/g;
  let i = text.startsWith('<?xml') ? text.indexOf('?>') + 2 : 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = text.slice(i, lt < 0 ? text.length : lt);
    if (stack.length > 0) stack[stack.length - 1]!.text += decode(chunk, i);
    else if (chunk.trim() !== '') throw new Error(`text outside the root element near offset ${i}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(text);
    if (!m) throw new Error(`malformed tag near offset ${lt}: ${JSON.stringify(text.slice(lt, lt + 40))}`);
    const [whole, close, name, attrText, selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`</${name}> closes <${open?.name}> near offset ${lt}`);
    } else {
      const attrs: Record<string, string> = {};
      for (const a of attrText!.matchAll(attr)) attrs[a[1]!] = decode(a[2]!, lt);
      const el: XmlElement = { name: name!, attrs, children: [], text: '' };
      if (stack.length > 0) stack[stack.length - 1]!.children.push(el);
      else if (root) throw new Error('a second root element');
      else root = el;
      if (!selfClose) stack.push(el);
    }
    i = lt + whole!.length;
  }
  if (!root || stack.length > 0) throw new Error(`unclosed <${stack.at(-1)?.name ?? 'root'}>`);
  return root;
}

/** Every element named `name` under el, depth first. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  return [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => findAll(c, name))];
}
