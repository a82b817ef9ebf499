// The layering rule of the architecture: imports flow scripts/, image/ -> api/ -> agent/ -> hardware/.
// Pure: given files and their text, list every import that reaches into a higher layer.
import { dirname, join, normalize, relative } from 'node:path';

export const LAYER_RANK: Readonly<Record<string, number>> = { hardware: 0, agent: 1, api: 2, scripts: 3, image: 3 };

/** The process root wires every layer together; nothing imports it. */
export const LAYER_EXCEPTIONS = new Set(['agent/main.ts']);

export interface LayerViolation { file: string; imports: string; from: string; to: string }

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
