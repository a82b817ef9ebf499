// What an offline bundle holds, told from its files (pure). MicroK8s and K3s cannot be downloaded on
// many stations (nor on these machines): a person makes a bundle on a connected machine and imports it
// (`station bundle import FILE`, docs/orchestrators.md). A bundle is a tar of:
//   MicroK8s  `snap download microk8s` and `snap download core20`: microk8s_<rev>.snap and .assert,
//             core20_<rev>.snap and .assert (the assertions `snap ack` needs before an offline install)
//   K3s       the air-gap release files: the `k3s` binary (k3s-arm64, k3s-armhf on ARM) and
//             k3s-airgap-images-<arch>.tar, .tar.gz or .tar.zst
// Each file is checked for what it must be (a snap is squashfs, an assertion is text that starts with
// its type, the binary is ELF), so a file that only has the right name is refused.

export interface BundleFile {
  name: string;
  size: number;
  /** its first bytes (four are enough) */
  head: Buffer;
}

export type Bundle =
  | { kind: 'microk8s'; version: string; files: { snap: string; assert: string; core: string; coreAssert: string } }
  | { kind: 'k3s'; version: string; arch: string; files: { binary: string; images: string } };

const SQUASHFS = Buffer.from('hsqs');
const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const ARCH_OF_BINARY: Record<string, string> = { k3s: 'amd64', 'k3s-arm64': 'arm64', 'k3s-armhf': 'arm' };

export class BundleError extends Error {}

const starts = (f: BundleFile, magic: Buffer) => f.head.subarray(0, magic.length).equals(magic);
const isAssertion = (f: BundleFile) => f.head.subarray(0, 6).toString('latin1') === 'type: ';

function snapPair(files: BundleFile[], snap: string): { snap: BundleFile; assert: BundleFile; revision: string } | null {
  const found = files.filter((f) => new RegExp(`^${snap}_(\\d+)\\.snap$`).test(f.name));
  if (found.length > 1) throw new BundleError(`the bundle holds ${found.length} ${snap} snaps: keep one`);
  if (!found.length) return null;
  const s = found[0]!;
  const revision = /_(\d+)\.snap$/.exec(s.name)![1]!;
  const assert = files.find((f) => f.name === `${snap}_${revision}.assert`);
  if (!assert) throw new BundleError(`${s.name} has no ${snap}_${revision}.assert (snap download writes both)`);
  if (!starts(s, SQUASHFS)) throw new BundleError(`${s.name} is not a snap (no squashfs header)`);
  if (!isAssertion(assert)) throw new BundleError(`${assert.name} is not a snap assertion`);
  return { snap: s, assert, revision };
}

/** The bundle these files make, or a BundleError saying what is missing or wrong. */
export function checkBundle(files: BundleFile[]): Bundle {
  const names = files.map((f) => f.name);
  const microk8s = snapPair(files, 'microk8s');
  if (microk8s) {
    const core = snapPair(files, 'core20');
    if (!core) throw new BundleError('a MicroK8s bundle needs core20 too (snap download core20): none is in it');
    return {
      kind: 'microk8s',
      version: microk8s.revision,
      files: { snap: microk8s.snap.name, assert: microk8s.assert.name, core: core.snap.name, coreAssert: core.assert.name },
    };
  }
  const binaries = files.filter((f) => f.name in ARCH_OF_BINARY);
  if (binaries.length > 1) throw new BundleError(`the bundle holds ${binaries.map((b) => b.name).join(' and ')}: keep the one of this station's architecture`);
  const binary = binaries[0];
  if (binary) {
    if (!starts(binary, ELF)) throw new BundleError(`${binary.name} is not a program (no ELF header)`);
    const arch = ARCH_OF_BINARY[binary.name]!;
    const images = files.find((f) => new RegExp(`^k3s-airgap-images-${arch}\\.tar(\\.gz|\\.zst)?$`).test(f.name));
    if (!images) throw new BundleError(`a K3s bundle needs k3s-airgap-images-${arch}.tar(.gz|.zst) next to ${binary.name}`);
    return { kind: 'k3s', version: arch, arch, files: { binary: binary.name, images: images.name } };
  }
  throw new BundleError(`not a MicroK8s or K3s bundle: it holds ${names.length ? names.join(', ') : 'nothing'}`);
}
