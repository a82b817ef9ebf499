// A tiny YAML writer for Nebula's config: maps, lists, strings, numbers and booleans only. Strings
// are always double-quoted JSON strings (valid YAML), so no value can change the document's shape.
type Value = string | number | boolean | Value[] | { [key: string]: Value };

function scalar(v: string | number | boolean): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
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
      const k = /^[a-z_][a-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
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
