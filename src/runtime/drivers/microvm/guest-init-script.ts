// The guest's pid 1, a busybox shell script in the initramfs: it loads the virtio and 9p drivers,
// mounts the host shares at their host paths, writes a minimal /etc, then runs the box's init argv
// as the workspace user and powers the VM off when that process ends. Everything particular to one
// box comes from /.nixspace/boot.sh (see box-boot-config.ts), which calls the functions below.
import { WORKSPACE_USER } from '../../sandbox.js';

const { uid, gid } = WORKSPACE_USER;

export const guestInitScript = `#!/.nixspace/bin/busybox sh
/.nixspace/bin/busybox --install -s /.nixspace/bin
export PATH=/.nixspace/bin
fail() { echo "nixspace-init: $*"; sync; poweroff -f; }

# The initramfs root is a tmpfs, whose root is world-writable unless told otherwise; no /root
# (the kernel's built-in initramfs and ours make one): nothing of a host's shape to probe.
chmod 0755 /
rmdir /root 2>/dev/null
# The workspace user sees its own processes only: not init's, nor the guest kernel's threads.
mount -t proc -o nosuid,nodev,noexec,hidepid=invisible proc /proc
mount -t sysfs -o nosuid,nodev,noexec sys /sys
mount -t devtmpfs -o nosuid,noexec dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx
for dir in /tmp /dev/shm; do mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$dir"; done
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
while read -r module; do
  insmod "/.nixspace/modules/$module" || fail "cannot load $module"
done < /.nixspace/modules.order
ip link set lo up

# share TAG PATH ro|rw CACHE: a 9p share of the host mounted at the host's own path.
share() {
  mkdir -p "$2" && mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000,cache=$4,$3,nosuid,nodev" "$1" "$2" ||
    fail "cannot mount the share $1 at $2"
}

box_hostname() {
  hostname "$1"
  echo "$1" > /etc/hostname
  printf '127.0.0.1 localhost\\n127.0.1.1 %s\\n::1 localhost\\n' "$1" > /etc/hosts
}

box_user() {
  shell=/bin/sh
  [ -x /bin/bash ] && shell=/bin/bash
  printf 'root:x:0:0:root:/root:/bin/sh\\ndev:x:${uid}:${gid}:dev:%s:%s\\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\\n' "$1" "$shell" > /etc/passwd
  printf 'root:x:0:\\ndev:x:${gid}:\\nnogroup:x:65534:\\n' > /etc/group
  printf 'passwd: files\\ngroup: files\\nhosts: files dns\\n' > /etc/nsswitch.conf
}

box_network_host() {
  ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 ||
    fail "cannot configure eth0"
  echo 'nameserver 10.0.2.3' > /etc/resolv.conf
}

# The agent's port, under the name udev would give it, and the workspace user's alone.
box_ports() {
  tries=0
  until [ -e /sys/class/virtio-ports ] && [ -n "$(ls /sys/class/virtio-ports)" ]; do
    tries=$((tries + 1)); [ "$tries" -gt 500 ] && fail "no virtio-serial port appeared"; sleep 0.01
  done
  mkdir -p /dev/virtio-ports
  for port in /sys/class/virtio-ports/*; do
    dev=\${port##*/}
    ln -sf "../$dev" "/dev/virtio-ports/$(cat "$port/name")"
    chown ${uid}:${gid} "/dev/$dev" && chmod 0600 "/dev/$dev"
  done
}

# The guest's own cgroup for the init and all it starts: where limits.pids is enforced (QEMU's
# host cgroup only sees QEMU's threads).
box_pids() {
  mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup || fail "cannot mount cgroup2"
  echo +pids > /sys/fs/cgroup/cgroup.subtree_control
  mkdir /sys/fs/cgroup/workspace && echo "$1" > /sys/fs/cgroup/workspace/pids.max ||
    fail "cannot limit the workspace to $1 processes"
  box_cgroup=/sys/fs/cgroup/workspace/cgroup.procs
}

# box_run CWD ARGV...: ARGV as the workspace user with no capability, and the end of the VM after.
box_run() {
  cwd=$1; shift
  mkdir -p "$cwd"
  echo "nixspace-init: starting init at $(cut -d' ' -f1 /proc/uptime)s"
  (
    cd "$cwd" || exit 125
    # $$ is pid 1's in a subshell; /proc/self is this process.
    if [ -n "$box_cgroup" ]; then read -r self _ < /proc/self/stat && echo "$self" > "$box_cgroup" || exit 125; fi
    exec /.nixspace/lib/ld-linux-x86-64.so.2 --library-path /.nixspace/lib /.nixspace/bin/setpriv \\
      --reuid=${uid} --regid=${gid} --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"
  ) < /dev/null &
  child=$!
  # ash reaps every child while it waits, orphans reparented to pid 1 included.
  wait "$child"
  echo "nixspace-init: init exited with status $?"
  sync
  poweroff -f
}

. /.nixspace/boot.sh
fail "boot.sh did not start init"
`;
