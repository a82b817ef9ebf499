// A tiny YAML writer for Nebula's config: maps, lists, strings, numbers and booleans only. Strings
// are always double-quoted with everything but printable ASCII escaped, so no value can change the
// document's shape, and none can make Nebula's reader (go-yaml, YAML 1.1) refuse the file: it takes
// U+0085, U+2028 and U+2029 for line breaks and refuses control characters such as DEL, which a
// JSON string would leave raw.
type Value = string | number | boolean | Value[] | { [key: string]: Value };

function quoted(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (cp >= 0x20 && cp <= 0x7e) out += ch;
    else if (cp >= 0xd800 && cp <= 0xdfff)
      out += '\\uFFFD'; // a lone surrogate is no character
    else out += cp <= 0xffff ? `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}` : `\\U${cp.toString(16).toUpperCase().padStart(8, '0')}`;
  }
  return `${out}"`;
}

function scalar(v: string | number | boolean): string {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`not a YAML number: ${v}`);
  return typeof v === 'string' ? quoted(v) : String(v);
}

const isMap = (v: Value): v is { [key: string]: Value } => typeof v === 'object' && !Array.isArray(v);

function lines(value: Value, indent: string): string[] {
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isMap(item) && Object.keys(item).length) {
        const inner = lines(item, `${indent}  `);
        out.push(`${indent}- ${inner[0]!.trimStart()}`, ...inner.slice(1));
      } else out.push(`${indent}- ${inline(item)}`);
    }
    return out;
  }
  if (isMap(value)) {
    for (const [key, item] of Object.entries(value)) {
      const k = /^[a-z_][a-z0-9_]*$/.test(key) ? key : quoted(key);
      if ((Array.isArray(item) && item.length) || (isMap(item) && Object.keys(item).length)) {
        out.push(`${indent}${k}:`, ...lines(item, `${indent}  `));
      } else out.push(`${indent}${k}: ${inline(item)}`);
    }
    return out;
  }
  return [`${indent}${scalar(value)}`];
}

function inline(v: Value): string {
  if (Array.isArray(v)) return v.length ? `[${v.map(inline).join(', ')}]` : '[]';
  if (isMap(v)) return '{}';
  return scalar(v);
}

export const toYaml = (doc: { [key: string]: Value }): string => `${lines(doc, '').join('\n')}\n`;
export type { Value as YamlValue };
