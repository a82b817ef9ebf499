# Assembles a raw, bootable disk image without loop devices or mounts:
#   sector 0       syslinux MBR (boots the active partition)
#   partition 1    FAT32 /boot/firmware: kernel, initrd, syslinux (installed with mtools)
#   partition 2    ext4 root, filled from the rootfs directory by mkfs.ext4 -d
# The same layout (FAT boot + ext4 root, root last so first boot can grow it) suits the Pi,
# whose firmware reads the FAT partition instead of an MBR boot sector.
BOOT_MB=256

write_disk_x86() { # $1 rootfs dir, $2 image path
  local root=$1 img=$2 work; work=$(dirname "$img")
  local kernel initrd
  kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n1)
  initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -n1)
  [ -f "$kernel" ] && [ -f "$initrd" ] || die "no kernel/initrd in $root/boot"

  local root_uuid; root_uuid=$(cat /proc/sys/kernel/random/uuid)
  local boot_id; boot_id=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ' | tr a-f A-F)
  write_fstab "$root" "$root_uuid" "$boot_id"

  # 1. the boot partition (FAT32), with syslinux in its boot sector
  rm -f "$work/boot.vfat" "$work/root.ext4"
  mkfs.vfat -F 32 -n STATIONBOOT -i "$boot_id" -C "$work/boot.vfat" $(( (BOOT_MB - 1) * 1024 )) >/dev/null
  mcopy -i "$work/boot.vfat" "$kernel" ::/vmlinuz
  mcopy -i "$work/boot.vfat" "$initrd" ::/initrd.img
  cat > "$work/syslinux.cfg" <<CFG
# Station: boot straight into the station (serial console first for headless boxes and QEMU)
DEFAULT station
PROMPT 0
TIMEOUT 0
LABEL station
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND root=UUID=$root_uuid rw rootwait console=tty0 console=ttyS0,115200n8 quiet systemd.show_status=auto
CFG
  mcopy -i "$work/boot.vfat" "$work/syslinux.cfg" ::/syslinux.cfg
  rm -f "$work/syslinux.cfg"
  syslinux --install "$work/boot.vfat"
  assemble_disk "$root" "$root_uuid" "$img" /usr/lib/syslinux/mbr/mbr.bin
}

write_fstab() { # $1 rootfs, $2 root fs uuid, $3 FAT volume id (8 hex digits)
  mkdir -p "$1/boot/firmware"
  cat > "$1/etc/fstab" <<FSTAB
UUID=$2 / ext4 rw,noatime,errors=remount-ro 0 1
UUID=${3:0:4}-${3:4:4} /boot/firmware vfat rw,noatime,nofail,umask=0077 0 2
FSTAB
}

# The root file system from the directory, then the disk: MBR (+ boot code unless "none"), the
# FAT partition made in $work/boot.vfat, the ext4 root sized to its content plus room.
assemble_disk() { # $1 rootfs, $2 root uuid, $3 image, $4 MBR boot code file or none
  local root=$1 root_uuid=$2 img=$3 mbr=$4 work; work=$(dirname "$img")
  local used_kb; used_kb=$(du -sk --exclude=./proc --exclude=./sys "$root" | cut -f1)
  # Room for logs, state and a few node volumes before first boot grows the partition.
  local root_mb=$(( used_kb * 13 / 10 / 1024 + 768 ))
  rm -f "$work/root.ext4"
  mkfs.ext4 -q -F -L station-root -U "$root_uuid" -d "$root" "$work/root.ext4" "${root_mb}M"
  local total_mb=$(( 1 + BOOT_MB + root_mb ))
  rm -f "$img"
  truncate -s "${total_mb}M" "$img"
  sfdisk -q "$img" <<PARTS
label: dos
start=1MiB, size=${BOOT_MB}MiB, type=c, bootable
start=$(( 1 + BOOT_MB ))MiB, type=83
PARTS
  if [ "$mbr" != none ]; then dd if="$mbr" of="$img" bs=440 count=1 conv=notrunc status=none; fi
  dd if="$work/boot.vfat" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
  dd if="$work/root.ext4" of="$img" bs=1M seek=$(( 1 + BOOT_MB )) conv=notrunc,sparse status=none
  rm -f "$work/boot.vfat" "$work/root.ext4"
}
