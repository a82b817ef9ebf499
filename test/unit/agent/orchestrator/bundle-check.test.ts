// Offline bundles: what `station bundle import` accepts and refuses, from the files a tar holds.
// The files are doubles with the heads real ones have (squashfs `hsqs`, an assertion's `type: `, ELF).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkBundle, type BundleFile } from '../../../../agent/orchestrator/bundles/bundle-check.ts';

const snap = (name: string): BundleFile => ({ name, size: 200_000_000, head: Buffer.from('hsqs\u0000\u0000') });
const assertion = (name: string): BundleFile => ({ name, size: 9000, head: Buffer.from('type: account-key\n') });
const elf = (name: string): BundleFile => ({ name, size: 70_000_000, head: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]) });
const plain = (name: string): BundleFile => ({ name, size: 10, head: Buffer.from('hello') });

const MICROK8S = [snap('microk8s_6364.snap'), assertion('microk8s_6364.assert'), snap('core20_2182.snap'), assertion('core20_2182.assert')];

test('MicroK8s: the two snaps with their assertions, the revision as its version', () => {
  assert.equal(checkBundle(MICROK8S), {
    kind: 'microk8s',
    version: '6364',
    files: { snap: 'microk8s_6364.snap', assert: 'microk8s_6364.assert', core: 'core20_2182.snap', coreAssert: 'core20_2182.assert' },
  });
});

test("K3s: the binary and its architecture's air-gap images", () => {
  assert.equal(checkBundle([elf('k3s'), plain('k3s-airgap-images-amd64.tar.zst'), plain('install.sh')]), {
    kind: 'k3s',
    version: 'amd64',
    arch: 'amd64',
    files: { binary: 'k3s', images: 'k3s-airgap-images-amd64.tar.zst' },
  });
  assert.is((checkBundle([elf('k3s-arm64'), plain('k3s-airgap-images-arm64.tar')]) as { arch: string }).arch, 'arm64');
});

test('refused with what is wrong: a file that only has the right name, a missing part, anything else', () => {
  assert.throws(() => checkBundle([plain('microk8s_1.snap'), assertion('microk8s_1.assert')]), /microk8s_1.snap is not a snap/);
  assert.throws(() => checkBundle([snap('microk8s_1.snap'), assertion('microk8s_1.assert')]), /needs core20/);
  assert.throws(() => checkBundle([snap('microk8s_1.snap'), ...MICROK8S.slice(2)]), /has no microk8s_1.assert/);
  assert.throws(() => checkBundle([plain('k3s'), plain('k3s-airgap-images-amd64.tar')]), /k3s is not a program/);
  assert.throws(() => checkBundle([elf('k3s'), plain('k3s-airgap-images-arm64.tar')]), /needs k3s-airgap-images-amd64/);
  assert.throws(() => checkBundle([plain('holiday.jpg')]), /not a MicroK8s or K3s bundle: it holds holiday.jpg/);
  assert.throws(() => checkBundle([]), /it holds nothing/);
});

test.run();
