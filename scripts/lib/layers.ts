// The layering rule of the architecture: imports flow scripts/, image/ -> api/ -> agent/ -> hardware/.
// Pure: given files and their text, list every import that reaches into a higher layer.
import { dirname, join, normalize, relative } from 'node:path';

export const LAYER_RANK: Readonly<Record<string, number>> = { hardware: 0, agent: 1, api: 2, scripts: 3, image: 3 };

/** The process root wires every layer together; nothing imports it. */
export const LAYER_EXCEPTIONS = new Set(['agent/main.ts']);

export interface LayerViolation {
  file: string;
  imports: string;
  from: string;
  to: string;
}

const IMPORT = /(?:^|[\n;])\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\s*\(?\s*['"]([^'"]+)['"]/g;

export function layerOf(path: string): string | undefined {
  const top = path.split('/')[0]!;
  return top in LAYER_RANK ? top : undefined;
}

export function findLayerViolations(files: { path: string; text: string }[]): LayerViolation[] {
  const violations: LayerViolation[] = [];
  for (const { path, text } of files) {
    const from = layerOf(path);
    if (!from || LAYER_EXCEPTIONS.has(path)) continue;
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2]!;
      if (!spec.startsWith('.')) continue;
      const target = normalize(relative('.', join(dirname(path), spec)));
      const to = layerOf(target);
      if (to && LAYER_RANK[to]! > LAYER_RANK[from]!) violations.push({ file: path, imports: spec, from, to });
    }
  }
  return violations;
}

/** Every relative import of `path` in `text`, as tree paths (type-only imports too: a circle of types is still a knot to read). */
export function importsOf(path: string, text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2]!;
    if (spec.startsWith('.')) out.push(normalize(relative('.', join(dirname(path), spec))));
  }
  return out;
}

/** The import circles among `files`: each a list of files that reach one another (Tarjan's strongly connected components). */
export function findImportCycles(files: { path: string; text: string }[]): string[][] {
  const known = new Set(files.map((f) => f.path));
  const edges = new Map(files.map((f) => [f.path, importsOf(f.path, f.text).filter((t) => known.has(t) && t !== f.path)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next++);
    stack.push(file);
    onStack.add(file);
    for (const target of edges.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const file of [...known].sort()) if (!index.has(file)) visit(file);
  return cycles;
}
