//! Paths inside an untrusted tree.
//!
//! A worktree holds whatever the posted series put there: a suite's working
//! folder or report file may be a symlink to `/etc`, to the state directory
//! (`../..`), or to a FIFO that blocks its reader for ever. [`resolve`]
//! finds where a relative path really leads, following links only while
//! they stay inside the tree, and [`read_file`] reads a regular file found
//! that way, within a size cap.

use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// Links followed at most while resolving one path, as the kernel's
/// `MAXSYMLINKS`: more means a loop.
const MAX_LINKS: usize = 40;

/// Why a path inside a tree was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("`{path}` is absolute; give a path inside the tree")]
    Absolute { path: String },
    #[error("`{path}` leads outside the tree{}", via.as_ref().map(|v| format!(" (through the symlink `{v}`)")).unwrap_or_default())]
    Outside { path: String, via: Option<String> },
    #[error("`{path}` has more than {MAX_LINKS} symlinks in a row (a loop?)")]
    Loop { path: String },
    #[error("`{path}` does not exist in the tree")]
    Missing { path: String },
    #[error("`{path}` is not a {want}")]
    NotA { path: String, want: &'static str },
    #[error("`{path}` is larger than {limit} bytes; not read")]
    TooLarge { path: String, limit: u64 },
    #[error("`{path}` could not be read: {message}")]
    Io { path: String, message: String },
}

/// Where `rel` leads inside `root` (an absolute path without symlinks):
/// each component is looked up without following it; a symlink is followed
/// only when its target, read as the kernel would, stays inside `root`. An
/// absolute link counts as leading outside even when it names a path under
/// `root`, since inside the sandbox the same name may mean something else.
/// The returned path lies under `root` and, when it exists, has no symlink
/// in it. The last component may be missing ([`Refused::Missing`] is left
/// to the caller that needs it to exist: a report not written yet).
pub fn resolve(root: &Path, rel: &Path) -> Result<PathBuf, Refused> {
    let shown = rel.display().to_string();
    let outside = |via: Option<&Path>| Refused::Outside {
        path: shown.clone(),
        via: via.map(|v| v.display().to_string()),
    };
    if rel.is_absolute() {
        return Err(Refused::Absolute { path: shown });
    }
    // Components still to walk, last first; `at` is where we are, as a
    // list of names below `root`.
    let mut todo: Vec<std::ffi::OsString> = Vec::new();
    push_components(&mut todo, rel);
    let mut at: Vec<std::ffi::OsString> = Vec::new();
    let mut links = 0usize;
    let mut missing = false;
    while let Some(name) = todo.pop() {
        if name == ".." {
            if at.pop().is_none() {
                return Err(outside(None));
            }
            continue;
        }
        if missing {
            // Below a missing component nothing can be a link.
            at.push(name);
            continue;
        }
        at.push(name);
        let here = join(root, &at);
        let meta = match std::fs::symlink_metadata(&here) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                missing = true;
                continue;
            }
            Err(e) => {
                return Err(Refused::Io {
                    path: shown,
                    message: e.to_string(),
                })
            }
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Err(Refused::Loop { path: shown });
        }
        let target = std::fs::read_link(&here).map_err(|e| Refused::Io {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let link = here.strip_prefix(root).unwrap_or(&here).to_path_buf();
        if target.is_absolute() {
            return Err(outside(Some(&link)));
        }
        // The link's target is read from the folder that holds the link.
        at.pop();
        push_components(&mut todo, &target);
        // A `..` in the target that climbs above `root` is caught above,
        // but name the link as the way out.
        let depth = at.len() as isize;
        if climbs_above(&target, depth) {
            return Err(outside(Some(&link)));
        }
    }
    Ok(join(root, &at))
}

/// [`resolve`], and the result must be an existing directory.
pub fn resolve_dir(root: &Path, rel: &Path) -> Result<PathBuf, Refused> {
    let dir = resolve(root, rel)?;
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => Ok(dir),
        Ok(_) => Err(Refused::NotA {
            path: rel.display().to_string(),
            want: "directory",
        }),
        Err(_) => Err(Refused::Missing {
            path: rel.display().to_string(),
        }),
    }
}

/// Reads the regular file `rel` leads to inside `root`, at most `limit`
/// bytes. A FIFO, device, socket or directory is refused without being
/// opened for reading in a way that could block; the file is opened without
/// following a final link (which [`resolve`] has already followed).
pub fn read_file(root: &Path, rel: &Path, limit: u64) -> Result<Vec<u8>, Refused> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = resolve(root, rel)?;
    let shown = rel.display().to_string();
    let io_err = |e: io::Error| Refused::Io {
        path: shown.clone(),
        message: e.to_string(),
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&path)
        .map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Refused::Missing {
                    path: shown.clone(),
                }
            } else {
                io_err(e)
            }
        })?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(Refused::NotA {
            path: shown,
            want: "regular file",
        });
    }
    if meta.len() > limit {
        return Err(Refused::TooLarge { path: shown, limit });
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > limit {
        return Err(Refused::TooLarge { path: shown, limit });
    }
    Ok(bytes)
}

fn push_components(todo: &mut Vec<std::ffi::OsString>, path: &Path) {
    let mut names: Vec<std::ffi::OsString> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => names.push(n.to_os_string()),
            Component::ParentDir => names.push("..".into()),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    todo.extend(names.into_iter().rev());
}

/// Whether `target`'s leading `..`s, read from a folder `depth` levels
/// below the root, reach above it.
fn climbs_above(target: &Path, depth: isize) -> bool {
    let mut d = depth;
    for c in target.components() {
        match c {
            Component::ParentDir => d -= 1,
            Component::Normal(_) => d += 1,
            _ => {}
        }
        if d < 0 {
            return true;
        }
    }
    false
}

fn join(root: &Path, at: &[std::ffi::OsString]) -> PathBuf {
    let mut p = root.to_path_buf();
    for n in at {
        p.push(n);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("wt");
        std::fs::create_dir_all(root.join("tests/unit")).expect("mkdir");
        std::fs::write(root.join("tests/unit/report.xml"), "<x/>").expect("write");
        let root = root.canonicalize().expect("canonical");
        (dir, root)
    }

    #[test]
    fn plain_paths_and_links_inside_resolve() {
        let (_d, root) = tree();
        symlink("tests/unit", root.join("u")).expect("link");
        symlink("..", root.join("tests/unit/up")).expect("link");
        assert_eq!(
            resolve_dir(&root, Path::new("tests")),
            Ok(root.join("tests"))
        );
        assert_eq!(
            resolve_dir(&root, Path::new("u")),
            Ok(root.join("tests/unit"))
        );
        assert_eq!(
            resolve_dir(&root, Path::new("u/up/unit")),
            Ok(root.join("tests/unit"))
        );
        assert_eq!(resolve_dir(&root, Path::new(".")), Ok(root.clone()));
        assert_eq!(
            read_file(&root, Path::new("u/report.xml"), 100),
            Ok(b"<x/>".to_vec())
        );
    }

    #[test]
    fn links_to_host_folders_are_refused() {
        let (d, root) = tree();
        std::fs::create_dir(d.path().join("state")).expect("mkdir");
        symlink("/etc", root.join("abs")).expect("link");
        symlink("../state", root.join("up")).expect("link");
        symlink("../../..", root.join("tests/deep")).expect("link");
        symlink(root.join("tests"), root.join("abs-inside")).expect("link");
        for rel in ["abs", "up", "tests/deep", "tests/deep/x", "abs-inside"] {
            let got = resolve(&root, Path::new(rel));
            assert!(
                matches!(got, Err(Refused::Outside { .. })),
                "{rel}: {got:?}"
            );
        }
        for rel in ["..", "../wt", "tests/../..", "tests/unit/../../../etc"] {
            assert!(
                matches!(resolve(&root, Path::new(rel)), Err(Refused::Outside { .. })),
                "{rel}"
            );
        }
        assert!(matches!(
            resolve(&root, Path::new("/etc")),
            Err(Refused::Absolute { .. })
        ));
    }

    #[test]
    fn loops_and_special_files_are_refused() {
        let (_d, root) = tree();
        symlink("b", root.join("a")).expect("link");
        symlink("a", root.join("b")).expect("link");
        assert!(matches!(
            resolve(&root, Path::new("a")),
            Err(Refused::Loop { .. })
        ));
        let fifo = root.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success(), "mkfifo");
        assert!(matches!(
            read_file(&root, Path::new("fifo"), 100),
            Err(Refused::NotA { .. })
        ));
        assert!(matches!(
            read_file(&root, Path::new("tests"), 100),
            Err(Refused::NotA { .. })
        ));
        assert!(matches!(
            read_file(&root, Path::new("tests/unit/report.xml"), 2),
            Err(Refused::TooLarge { .. })
        ));
        assert!(matches!(
            read_file(&root, Path::new("nope.xml"), 2),
            Err(Refused::Missing { .. })
        ));
    }
}
