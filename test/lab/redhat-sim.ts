/**
 * The lab's RedHat-family SIMULATION (NOT RHEL): a VM whose root is this Debian machine's files, dressed
 * as a RHEL 9 clone for everything Outpost's roles look at. Ansible's facts say os_family RedHat and
 * pkg_mgr dnf; rpm and dnf are real (Debian's packages), with their own database in the VM; the SSH
 * daemon is the `sshd` service; Debian's apt and dpkg are gone, so a role that takes the Debian branch
 * fails loudly. What stays Debian's: the binaries themselves, sysv helpers (service, update-rc.d,
 * start-stop-daemon), no systemd and no SELinux.
 */
import { execa } from 'execa';
import { buildRpm } from '../support/build-rpm.ts';

/** The release the simulation claims, as `/etc/os-release` and the facts say it. */
export const SIM_RELEASE = { distribution: 'Rocky', version: '9.4', major: '9' } as const;

const OS_RELEASE = `NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
VARIANT="Outpost lab simulation, NOT Rocky Linux"
VARIANT_ID="outpost-lab-sim"
`;

// A RHEL 9 /etc/sudoers, trimmed: the admin group is wheel, and the drop-in directory is read through
// the older '#includedir' spelling.
const SUDOERS = `Defaults   !visiblepw
Defaults    always_set_home
Defaults    match_group_by_gid
Defaults    env_reset
Defaults    secure_path = /sbin:/bin:/usr/sbin:/usr/bin
root	ALL=(ALL) 	ALL
%wheel	ALL=(ALL)	ALL
#includedir /etc/sudoers.d
`;

// RHEL 9's dnf.conf: unlike Debian's, an unreachable repository is an error.
const DNF_CONF = `[main]
gpgcheck=1
installonly_limit=3
clean_requirements_on_remove=True
best=True
skip_if_unavailable=False
reposdir=/etc/yum.repos.d
`;

// A sysv script in the style of EL6's /etc/init.d/sshd: the service is named sshd, not Debian's ssh.
const SSHD_INIT = `#!/bin/sh
# chkconfig: 2345 55 25
# description: OpenSSH server daemon (Outpost lab RedHat-family simulation)
### BEGIN INIT INFO
# Provides:          sshd
# Required-Start:    $local_fs $network
# Required-Stop:     $local_fs $network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: OpenSSH server daemon
### END INIT INFO
SSHD=/usr/sbin/sshd
PIDFILE=/run/sshd.pid
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
case "$1" in
  start) running && exit 0; mkdir -p /run/sshd; "$SSHD" -t && "$SSHD" ;;
  stop) running || exit 0; kill "$(cat "$PIDFILE")"; while running; do sleep 0.1; done ;;
  restart) "$SSHD" -t || exit 1; "$0" stop && "$0" start ;;
  reload) "$SSHD" -t || exit 1; running && kill -HUP "$(cat "$PIDFILE")" ;;
  status)
    if running; then echo "sshd (pid $(cat "$PIDFILE")) is running..."; exit 0; fi
    echo "sshd is stopped"; exit 3 ;;
  *) echo "Usage: $0 {start|stop|restart|reload|status}" >&2; exit 2 ;;
esac
`;

/**
 * Builds `outpost-lab-sim-base`, an empty package that tells the VM's rpm database what a RHEL 9
 * clone would have installed (the release, python3, /bin/sh...): Debian provides the files, this
 * provides the names, so packages that require them install and dnf finds `$releasever`.
 */
export async function buildSimBaseRpm(outDir: string): Promise<string> {
  const { stdout: python } = await execa('/usr/bin/python3', [
    '-c',
    'import sys; print("%d.%d.%d" % sys.version_info[:3])',
  ]);
  const provides = [
    `system-release = ${SIM_RELEASE.version}`,
    `system-release(releasever) = ${SIM_RELEASE.major}`,
    `redhat-release = ${SIM_RELEASE.version}`,
    `rocky-release = ${SIM_RELEASE.version}`,
    `python3 = ${python}`,
    '/usr/bin/python3',
    '/bin/sh',
    'bash',
    'coreutils',
    'shadow-utils',
    'openssh-server',
    'sudo',
  ];
  return buildRpm({
    outDir,
    spec: `Name: outpost-lab-sim-base
Version: ${SIM_RELEASE.version}
Release: 1
Summary: Outpost lab SIMULATION of a RHEL 9 clone base system - NOT an OS
License: Apache-2.0
BuildArch: noarch
AutoReqProv: no
${provides.map((name) => `Provides: ${name}`).join('\n')}

%description
Outpost's test lab simulates RedHat-family VMs over a Debian machine's files. This empty package
names, for rpm and dnf, the parts of a RHEL 9 clone's base system the VM has.

%files
`,
  });
}

/** Where the lab's dnf repositories are served (by test/support/rpm-repo.ts) on the control plane's lab address. */
export function formatLabRepoUrl(controlAddress: string): string {
  return `http://${controlAddress}`;
}

/** The GPG key file, relative to {@link formatLabRepoUrl}, that signs the lab repositories' packages. */
export const LAB_REPO_KEY_PATH = 'RPM-GPG-KEY-outpost-lab';

/** The VM's one preconfigured repository, like a RHEL image's BaseOS: unreachable from inside a VPC. */
function renderBaseRepo(controlAddress: string): string {
  const url = formatLabRepoUrl(controlAddress);
  return `[outpost-lab-baseos]
name=Outpost lab BaseOS $releasever - $basearch (simulation)
baseurl=${url}/el$releasever/baseos/$basearch/
gpgcheck=1
gpgkey=${url}/${LAB_REPO_KEY_PATH}
enabled=1
`;
}

/** Shell lines (run as root inside the VM at boot, before sshd starts) that dress it as the simulation. */
export function renderRedhatSimSetup(baseRpm: string, controlAddress: string): string {
  return `# RedHat-family SIMULATION (Outpost lab, NOT RHEL): release files of a RHEL 9 clone; apt and dpkg gone.
rm -f /etc/debian_version /etc/os-release /usr/lib/os-release /etc/init.d/ssh /etc/sudoers \\
  /usr/bin/apt /usr/bin/apt-get /usr/bin/apt-cache /usr/bin/apt-config /usr/bin/apt-key /usr/bin/apt-mark \\
  /usr/bin/dpkg /usr/bin/dpkg-deb /usr/bin/dpkg-query
cat > /usr/lib/os-release <<'OUTPOST_EOF'
${OS_RELEASE}OUTPOST_EOF
ln -s ../usr/lib/os-release /etc/os-release
echo 'Rocky Linux release ${SIM_RELEASE.version} (Blue Onyx)' > /etc/rocky-release
ln -s rocky-release /etc/redhat-release
ln -s rocky-release /etc/system-release
# rpm keeps the system database where a RedHat system has it (Debian's rpm defaults to ~/.rpmdb).
mkdir -p /etc/rpm /var/lib/rpm /etc/yum.repos.d
echo '%_dbpath /var/lib/rpm' > /etc/rpm/macros.outpost-lab-sim
rpm --initdb
rpm --install --nosignature ${baseRpm}
cat > /etc/dnf/dnf.conf <<'OUTPOST_EOF'
${DNF_CONF}OUTPOST_EOF
cat > /etc/yum.repos.d/outpost-lab.repo <<'OUTPOST_EOF'
${renderBaseRepo(controlAddress)}OUTPOST_EOF
cat > /etc/sudoers <<'OUTPOST_EOF'
${SUDOERS}OUTPOST_EOF
chmod 0440 /etc/sudoers
groupadd --system wheel
cat > /etc/init.d/sshd <<'OUTPOST_EOF'
${SSHD_INIT}OUTPOST_EOF
chmod 0755 /etc/init.d/sshd
`;
}
