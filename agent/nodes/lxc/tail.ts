// The last `lines` lines of a text (without a trailing empty line). Pure.
export function tailLines(text: string, lines: number): string {
  if (lines <= 0 || !text) return '';
  const all = text.replace(/\n$/, '').split('\n');
  return all.slice(-lines).join('\n');
}
