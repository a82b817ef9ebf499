// A benchmark's human table: rows of cells (the first row the header), each column padded to its
// widest cell, two spaces between columns, no trailing blanks.
export function alignedTable(rows: string[][]): string {
  const cell = (r: string[], i: number) => r[i] ?? '';
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => cell(r, i).length)));
  return rows
    .map((r) =>
      widths
        .map((w, i) => cell(r, i).padEnd(w))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
