# Raspberry Pi 4 disk: the Pi's boot ROM reads the first FAT partition of an MBR disk, so the boot
# partition holds the Pi firmware (Debian raspi-firmware), the kernel, the initrd, the device tree,
# config.txt and cmdline.txt. No MBR boot code. The root partition is the same ext4 as on x86-64.
write_disk_rpi() { # $1 rootfs dir, $2 image path
  local root=$1 img=$2 work; work=$(dirname "$img")
  local kernel initrd kver dtbs
  kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n1)
  initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -n1)
  kver=${kernel##*/vmlinuz-}
  dtbs="$root/usr/lib/linux-image-$kver/broadcom"
  [ -f "$kernel" ] && [ -f "$initrd" ] || die "no kernel/initrd in $root/boot"
  [ -d "$root/usr/lib/raspi-firmware" ] || die "raspi-firmware missing from the arm64 rootfs"
  local root_uuid boot_id
  root_uuid=$(cat /proc/sys/kernel/random/uuid)
  boot_id=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ' | tr a-f A-F)
  write_fstab "$root" "$root_uuid" "$boot_id"

  rm -f "$work/boot.vfat"
  mkfs.vfat -F 32 -n STATIONBOOT -i "$boot_id" -C "$work/boot.vfat" $(( (BOOT_MB - 1) * 1024 )) >/dev/null
  mcopy -i "$work/boot.vfat" "$root"/usr/lib/raspi-firmware/* ::/
  mcopy -i "$work/boot.vfat" "$kernel" ::/vmlinuz
  mcopy -i "$work/boot.vfat" "$initrd" ::/initrd.img
  for dtb in bcm2711-rpi-4-b.dtb bcm2711-rpi-400.dtb bcm2711-rpi-cm4.dtb bcm2712-rpi-5-b.dtb; do
    [ -f "$dtbs/$dtb" ] && mcopy -i "$work/boot.vfat" "$dtbs/$dtb" ::/
  done
  printf '%s\n' '# Station on the Raspberry Pi (64-bit, Debian kernel)' arm_64bit=1 enable_uart=1 upstream_kernel=1 \
    kernel=vmlinuz 'initramfs initrd.img followkernel' cmdline=cmdline.txt disable_overscan=1 > "$work/config.txt"
  echo "console=tty0 console=ttyS1,115200 root=UUID=$root_uuid rw rootwait fsck.repair=yes quiet" > "$work/cmdline.txt"
  mcopy -i "$work/boot.vfat" "$work/config.txt" "$work/cmdline.txt" ::/
  rm -f "$work/config.txt" "$work/cmdline.txt"
  assemble_disk "$root" "$root_uuid" "$img" none
}
