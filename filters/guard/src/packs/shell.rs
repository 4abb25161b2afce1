//! `destructive_shell`: shell commands that wipe a machine, a disk or a home directory.
//!
//! | Detector | Matches |
//! | --- | --- |
//! | `rm_root` | `rm` with a recursive flag (`-r`, `-R`, `-rf`, `-fr`, `--recursive`) on `/`, `/*`, `/.`, `~`, `~/`, `~/*`, `$HOME`, or a top-level system directory (`/etc`, `/usr`, `/var`, `/home`, `/boot`, `/bin`, `/lib`, `/root`, `/opt`, `/srv`, `/sbin`, `/sys`, `/proc`, `/dev`, `/Users`, `/System`, `/Library`, `/Applications`); any `rm … --no-preserve-root` |
//! | `find_delete_root` | `find /` (or `~`, `$HOME`) with `-delete` or `-exec rm` |
//! | `format_disk` | `mkfs`, `mkfs.*`, `mke2fs`, `wipefs` on a `/dev/…` device |
//! | `overwrite_disk` | `dd … of=/dev/sdX` (and `nvme`, `hd`, `vd`, `xvd`, `mmcblk`, `disk`, `md`, `dm-`, `mapper/`), `shred /dev/…`, output redirected onto a disk device |
//! | `fork_bomb` | `name(){ name|name& };name`, the classic `:(){ :|:& };:` included |
//! | `chmod_root` | `chmod`/`chown`/`chgrp` with `-R`/`--recursive` on `/`, `/*` or a top-level system directory |
//!
//! **Precision.** Commands must be in *command position* (see [`crate::context`]): a line or
//! code line of their own (backticks, code blocks, `$ ` and `root@host:~# ` prompts, tool
//! arguments), after `;`/`&&`/`||`/`|`, after `sudo`, `sh -c`, `ssh host`, or after
//! "run"/"execute"/"please". "Is it safe to run rm -rf /?" and "never run `rm -rf /`" do not
//! match. **Relative paths are not matched**: `rm -rf ./build`, `rm -rf node_modules`,
//! `rm -rf *` and `rm -rf .` clean a project and are everyday commands; neither are deeper
//! absolute paths (`rm -rf /tmp/cache`, `/var/lib/app/data`) nor variables other than `$HOME`
//! (`rm -rf "$BUILD_DIR/"` is a known foot-gun but too common to block). `mkfs` on an image
//! file and `dd of=disk.img` are fine.

use super::Spec;
use crate::context::Context;

const SYSTEM_DIRS: &[&str] = &[
    "bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "opt", "proc", "root", "sbin", "srv", "sys", "usr",
    "var", "Users", "System", "Library", "Applications",
];

pub(super) const SPECS: &[Spec] = &[
    Spec {
        name: "rm_root",
        pattern: r"\brm(?:[ \t]+[^\s;&|<>`()]+){1,24}",
        context: Context::Command,
        check: Some(rm_root),
        exact_case: false,
    },
    Spec {
        name: "find_delete_root",
        pattern: r#"\bfind\s+["']?(?:/|~/?|\$home/?|\$\{home\}/?)["']?\s[^\n;&|]*?(?:-delete\b|-exec\s+rm\b)"#,
        context: Context::Command,
        check: None,
        exact_case: false,
    },
    Spec {
        name: "format_disk",
        pattern: r"\b(?:mkfs(?:\.\w+)?|mke2fs|wipefs)(?:\s+-{1,2}[\w-]+(?:[= ][^\s/-]\S*)?)*\s+/dev/\S+",
        context: Context::Command,
        check: None,
        exact_case: false,
    },
    Spec {
        name: "overwrite_disk",
        pattern: concat!(
            r"\bdd\s[^\n;&|]*?\bof=/dev/(?:sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|r?disk\d|md\d|dm-\d|mapper/)",
            r"|\bshred\s+(?:-\S+\s+)*/dev/\S+",
            r"|\b(?:cat|echo|printf|yes|head|tr)\b[^\n;&|]*?>\s*/dev/(?:sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|r?disk\d)"
        ),
        context: Context::Command,
        check: None,
        exact_case: false,
    },
    Spec {
        name: "fork_bomb",
        pattern: r"([A-Za-z_:.][\w:.]*)\s*\(\)\s*\{\s*[A-Za-z_:.][\w:.]*\s*\|\s*[A-Za-z_:.][\w:.]*\s*&\s*;?\s*\}",
        context: Context::Command,
        check: Some(fork_bomb),
        exact_case: false,
    },
    Spec {
        name: "chmod_root",
        pattern: r#"\b(?:chmod|chown|chgrp)[^\n;&|]*?(?:\s-[a-z]*r[a-z]*|\s--recursive)\b[^\n;&|]*?\s["']?(?:/\*?|/(?:bin|boot|etc|home|lib|lib64|opt|root|sbin|srv|usr|var)/?\*?)["']?(?:[\s;&|`]|$)"#,
        context: Context::Command,
        check: None,
        exact_case: false,
    },
];

/// `rm` arguments: a recursive flag and a root-like path, or `--no-preserve-root`.
fn rm_root(text: &str, start: usize, end: usize) -> bool {
    let args = text.get(start..end).unwrap_or("").split_whitespace().skip(1);
    let (mut recursive, mut dangerous, mut flags_done) = (false, false, false);
    for arg in args {
        let arg = arg.trim_matches(|c| c == '"' || c == '\'');
        if !flags_done && arg == "--" {
            flags_done = true;
        } else if !flags_done && arg.starts_with("--") {
            recursive |= arg == "--recursive";
            if arg == "--no-preserve-root" {
                return true;
            }
        } else if !flags_done && arg.starts_with('-') && arg.len() > 1 {
            recursive |= arg.contains(['r', 'R']);
        } else {
            dangerous |= is_root_like(arg);
        }
    }
    recursive && dangerous
}

fn is_root_like(path: &str) -> bool {
    let home = ["~", "$HOME", "${HOME}"].iter().find_map(|h| path.strip_prefix(h));
    if let Some(rest) = home {
        return matches!(rest, "" | "/" | "/*" | "/.");
    }
    let Some(rest) = path.strip_prefix('/') else { return false };
    let rest = rest.trim_start_matches('/');
    if matches!(rest, "" | "*" | "." | "..") {
        return true;
    }
    let dir = rest.strip_suffix("/*").or_else(|| rest.strip_suffix('/')).unwrap_or(rest);
    SYSTEM_DIRS.contains(&dir)
}

/// The three names of `a(){ b|c& }` are the same.
fn fork_bomb(text: &str, start: usize, end: usize) -> bool {
    let matched = text.get(start..end).unwrap_or("");
    let Some((name, body)) = matched.split_once("()") else { return false };
    let name = name.trim();
    let body: String = body.chars().filter(|c| !c.is_whitespace() && !matches!(c, '{' | '}' | ';' | '&')).collect();
    body == format!("{name}|{name}")
}
