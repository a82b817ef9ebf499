// Parsers for apt-get output used by package modules. Pure.

export interface PlannedPackage {
  name: string;
  version: string;
  arch: string;
}

/** `apt-get -s install ...`: "Inst curl (7.88.1-10+deb12u8 Debian:12.8/stable [amd64])" lines. */
export function parseAptSimulation(text: string): PlannedPackage[] {
  const out: PlannedPackage[] = [];
  for (const line of text.split('\n')) {
    const m = /^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) .*\[([^\]]+)\]\)/.exec(line);
    if (m) out.push({ name: m[1]!, version: m[2]!, arch: m[3]! });
  }
  return out;
}

/** The file name apt gives a downloaded package (an epoch's ':' is written as %3a). */
export const debFileName = (p: PlannedPackage): string => `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.arch}.deb`;

/** Package names apt could not find ("E: Unable to locate package X", "E: Package 'X' has no installation candidate"). */
export function parseAptUnknownPackages(stderr: string): string[] {
  const names: string[] = [];
  for (const m of stderr.matchAll(/Unable to locate package (\S+)/g)) names.push(m[1]!);
  for (const m of stderr.matchAll(/Package '([^']+)' has no installation candidate/g)) names.push(m[1]!);
  return [...new Set(names)];
}
