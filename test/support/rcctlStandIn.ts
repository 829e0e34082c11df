// A stand-in for OpenBSD's rcctl(8), in POSIX sh, for the base daemons it is told about. It keeps
// its state where rcctl does, in rc.conf.local (`<daemon>_flags=` lines), and answers as
// usr.sbin/rcctl/rcctl.sh (1.122) does for what the edge deploy asks of it:
// - `get <d> flags` (svc_get): the flags from rc.conf.local, else rc.conf's default; when those are
//   empty, the rc.d script's default flags; printed only when not empty, status 0. So a disabled
//   daemon prints NO, and one enabled with its default flags prints nothing.
// - `get <d> status`: nothing printed; status 1 when the flags are NO, else 0.
// - `enable <d>` (svc_set status on): keeps the flags of an enabled daemon, else none.
// - `set <d> flags [args]` (svc_set): refused ("is not enabled") unless enabled; flags equal to
//   the rc.d script's default are none; a base daemon that rc.conf disables by default keeps a
//   line `<d>_flags=` even with no flags.
// - `disable <d>` (svc_rm): drops the daemon's lines, and writes `<d>_flags=NO` only when rc.conf
//   enables it by default.
// Every edit (rcconf_edit_end) sorts rc.conf.local with sort -u and removes it when empty.
// start/stop/restart/check stand for the rc.d script (etc/rc.d/rc.subr, rc_cmd: a daemon whose
// flags are NO starts, or restarts, only with -f); a running daemon's flags are in
// <runDir>/<d>.running.
import { shellQuote } from "../../components/shared/shell";

export interface RcctlDaemon {
    /** Its flags in /etc/rc.conf: "NO" for a daemon off by default (ifstated), "" for one on. */
    rcConf: "NO" | "";
    /** daemon_flags in its /etc/rc.d script; none for most. */
    rcdFlags?: string;
}

export interface RcctlStandInOptions {
    /** The folder of rc.conf.local (the lab's /etc). */
    etcDir: string;
    /** Where running daemons are recorded. */
    runDir: string;
    /** Each call is appended here as a line `rcctl <args>`. */
    callLog: string;
    /** Default: ifstated, off by default, no default flags (etc/rc.conf, etc/rc.d/ifstated). */
    daemons?: Record<string, RcctlDaemon>;
}

export function rcctlStandIn(o: RcctlStandInOptions): string {
    const daemons = o.daemons ?? { ifstated: { rcConf: "NO" } };
    const q = shellQuote;
    const cases = (pick: (d: RcctlDaemon) => string) => Object.entries(daemons).map(([name, d]) => `    ${name}) printf '%s' ${q(pick(d))} ;;`).join("\n");
    return `#!/bin/sh
conf=${q(`${o.etcDir}/rc.conf.local`)}
run=${q(o.runDir)}
echo "rcctl $*" >> ${q(o.callLog)}
force=
while :; do
  case "\${1-}" in -f) force=1; shift ;; -d|-q) shift ;; *) break ;; esac
done
action=\${1-}; svc=\${2-}

rcconf_default() {
  case "$1" in
${cases((d) => d.rcConf)}
    *) echo "rcctl: service $1 does not exist" >&2; exit 2 ;;
  esac
}
rcd_flags() {
  case "$1" in
${cases((d) => d.rcdFlags ?? "")}
  esac
}
# _rc_parse_conf: rc.conf, then rc.conf.local; surrounding double quotes dropped.
conf_flags() {
  if [ -f "$conf" ] && grep -q "^$1_flags *=" "$conf"; then
    v=$(grep "^$1_flags *=" "$conf" | tail -n 1); v=\${v#*=}
    case "$v" in \\"*\\") v=\${v#\\"}; v=\${v%\\"} ;; esac
    printf '%s' "$v"
  else
    rcconf_default "$1"
  fi
}
get_flags() {
  v=$(conf_flags "$1")
  [ -n "$v" ] || v=$(rcd_flags "$1")
  [ -z "$v" ] || printf '%s\\n' "$v"
}
is_on() {
  [ "$(get_flags "$1")" != NO ]
}
# rcconf_edit_begin/_end: drop the lines matching $1, add $2 if any, sort -u, no empty file.
rewrite() {
  tmp=$(mktemp)
  if [ -f "$conf" ]; then grep -Ev "$1" "$conf" > "$tmp" || :; fi
  if [ -n "$2" ]; then printf '%s\\n' "$2" >> "$tmp"; fi
  sort -u -o "$tmp" "$tmp"
  if [ -s "$tmp" ]; then cat "$tmp" > "$conf"; else rm -f "$conf"; fi
  rm -f "$tmp"
}
write_flags() {
  args=$2
  if [ -n "$args" ] && [ "$args" = "$(rcd_flags "$1")" ]; then args=; fi
  case "$args" in " "*) args="\\"$args\\"" ;; esac
  if [ -n "$args" ] || [ "$(rcconf_default "$1")" = NO ]; then rewrite "^$1_flags *=" "$1_flags=$args"; else rewrite "^$1_flags *=" ""; fi
}

rcconf_default "$svc" > /dev/null
case "$action" in
  get)
    case "\${3-}" in
      flags) get_flags "$svc" ;;
      status) is_on "$svc" ;;
      *) echo "rcctl: the stand-in knows get flags and get status only" >&2; exit 1 ;;
    esac
    ;;
  enable)
    cur=$(conf_flags "$svc"); [ "$cur" != NO ] || cur=
    write_flags "$svc" "$cur"
    ;;
  disable)
    if [ "$(rcconf_default "$svc")" = NO ]; then line=; else line="\${svc}_flags=NO"; fi
    rewrite "^\${svc}_(execdir|flags|logger|rtable|timeout|user).*=" "$line"
    ;;
  set)
    [ "\${3-}" = flags ] || { echo "rcctl: the stand-in knows set flags only" >&2; exit 1; }
    is_on "$svc" || { echo "rcctl: $svc is not enabled" >&2; exit 1; }
    shift 3
    write_flags "$svc" "$*"
    ;;
  start|restart)
    if ! is_on "$svc" && [ -z "$force" ]; then echo "/etc/rc.d/$svc: need -f to force start since \${svc}_flags=NO" >&2; exit 1; fi
    mkdir -p "$run"
    printf '%s\\n' "$(get_flags "$svc")" > "$run/$svc.running"
    ;;
  stop) rm -f "$run/$svc.running" ;;
  check) [ -e "$run/$svc.running" ] ;;
  *) echo "rcctl: the stand-in does not know $action" >&2; exit 1 ;;
esac
`;
}
