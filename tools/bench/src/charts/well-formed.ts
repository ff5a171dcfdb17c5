/**
 * XML well-formedness, enough for the SVG this project writes (the tests' check;
 * no XML parser is a dependency here): one root element, every tag closed in
 * order, attributes quoted, `<` and `&` escaped in text and attribute values.
 * Returns the problems found, none when well formed.
 */
export function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const entity = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  const tag = /<([^>]*)>/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const between = body.slice(last, m.index);
    if (between.includes('<') || entity.test(between)) problems.push(`unescaped text before offset ${m.index}: ${between.slice(0, 40)}`);
    if (stack.length === 0 && between.trim() !== '') problems.push(`text outside the root element at offset ${m.index}`);
    last = tag.lastIndex;
    const inner = m[1];
    if (inner.startsWith('!--')) continue;
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim();
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
      continue;
    }
    const parts = /^([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*"[^"<]*")*)\s*(\/?)$/.exec(inner);
    if (!parts) {
      problems.push(`malformed tag <${inner.slice(0, 60)}>`);
      continue;
    }
    const [, name, attrs, selfClosing] = parts;
    const names = [...attrs.matchAll(/([A-Za-z_][\w:.-]*)\s*=/g)].map((a) => a[1]);
    if (new Set(names).size !== names.length) problems.push(`<${name}> repeats an attribute`);
    for (const value of attrs.matchAll(/"([^"]*)"/g)) if (entity.test(value[1])) problems.push(`unescaped & in an attribute of <${name}>`);
    if (stack.length === 0) roots++;
    if (!selfClosing) stack.push(name);
  }
  if (body.slice(last).trim() !== '') problems.push('text after the root element');
  if (stack.length) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}
