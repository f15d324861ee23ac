#!/bin/sh
# Runs as PID 1 of a new PID, mount, UTS, IPC and cgroup namespace, already joined to
# the host's network namespace. Assembles the root file system inside this mount
# namespace only (nothing here is visible to the machine), then boots systemd.
#   boot-host.sh LOWER STATE_DIR HOSTNAME STORAGE HOME
set -eu
lower=$1 state=$2 name=$3 storage=$4 home=$5
root=$state/root

mount --make-rprivate /
hostname "$name"
mkdir -p "$state/upper" "$state/work" "$root"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$state/upper,workdir=$state/work" "$root"

mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"

# The lab's own /dev, with its own /dev/net/tun node open to unprivileged users.
mount -t tmpfs -o mode=755,nosuid,size=64k dev "$root/dev"
mknod -m 666 "$root/dev/null" c 1 3
mknod -m 666 "$root/dev/zero" c 1 5
mknod -m 666 "$root/dev/full" c 1 7
mknod -m 666 "$root/dev/random" c 1 8
mknod -m 666 "$root/dev/urandom" c 1 9
mknod -m 666 "$root/dev/tty" c 5 0
mkdir -m 755 "$root/dev/net"
mknod -m 666 "$root/dev/net/tun" c 10 200
mknod -m 666 "$root/dev/fuse" c 10 229
mkdir -m 755 "$root/dev/pts" "$root/dev/shm" "$root/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
mount -t mqueue mqueue "$root/dev/mqueue"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"

# /var/tmp on tmpfs: buildah mounts overlays there, which overlayfs cannot host.
mount -t tmpfs -o mode=1777,nosuid,nodev vartmp "$root/var/tmp"

# Container storage survives the lab so images are built once.
mount --bind "$storage" "$root$home/.local/share/containers"

cd "$root"
mkdir -p .oldroot
pivot_root . .oldroot
exec /usr/sbin/chroot . /bin/sh -c 'umount -l /.oldroot && rmdir /.oldroot && exec /lib/systemd/systemd'
