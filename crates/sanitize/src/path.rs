//! Joining a user-supplied relative path to a base directory without leaving it (CWE-22,
//! path traversal).
//!
//! [`safe_join`] is lexical: it never touches the filesystem and refuses, on every platform,
//! what any platform would read as leaving the base (`..` above the base, `/etc/passwd`,
//! `C:\…`, `\\server\share`, NUL). [`safe_join_fs`] also resolves symbolic links that exist,
//! and refuses a link that points outside the base.

use std::io;
use std::path::{Component, Path, PathBuf};

/// Why a user path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The user path is empty (or only `.` and separators): it names no file in the base.
    #[error("empty path")]
    Empty,
    /// The user path contains a NUL byte (C APIs would cut the path there).
    #[error("NUL byte in path")]
    Nul,
    /// The user path is absolute (`/etc/passwd`, `\Windows`).
    #[error("absolute path")]
    Absolute,
    /// A Windows drive letter (`C:\…`, `C:file`, drive-relative) in a component.
    #[error("Windows drive letter in path")]
    DriveLetter,
    /// A Windows UNC or device path (`\\server\share`, `//server/share`, `\\?\C:\`).
    #[error("UNC or device path")]
    Unc,
    /// `..` would go above the base directory.
    #[error("`..` escapes the base directory")]
    ParentEscape,
    /// A symbolic link in the path resolves outside the base directory.
    #[error("symbolic link leaves the base directory")]
    SymlinkEscape,
    /// The base directory could not be resolved, or a component could not be inspected.
    #[error("filesystem error: {0}")]
    Io(io::ErrorKind),
}

/// The normal components of `user_path` after lexical resolution of `.` and `..`.
///
/// Both `/` and `\` separate components, whatever the platform, so `..\..\etc` is read as a
/// Windows server would read it.
fn components(user_path: &str) -> Result<Vec<&str>, PathError> {
    if user_path.contains('\0') {
        return Err(PathError::Nul);
    }
    let is_sep = |c: char| c == '/' || c == '\\';
    let mut chars = user_path.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if is_sep(a) && is_sep(b) => return Err(PathError::Unc),
        (Some(a), _) if is_sep(a) => return Err(PathError::Absolute),
        _ => {}
    }
    let mut out: Vec<&str> = Vec::new();
    for part in user_path.split(is_sep) {
        match part {
            "" | "." => {}
            ".." => {
                out.pop().ok_or(PathError::ParentEscape)?;
            }
            _ => {
                let mut c = part.chars();
                if let (Some(letter), Some(':')) = (c.next(), c.next())
                    && letter.is_ascii_alphabetic()
                {
                    return Err(PathError::DriveLetter);
                }
                out.push(part);
            }
        }
    }
    if out.is_empty() {
        return Err(PathError::Empty);
    }
    Ok(out)
}

/// `base` joined with the relative `user_path`, lexically: the result is `base` followed by
/// normal components only, so it is always inside `base`.
///
/// `.` and empty components are dropped; `a/../b` is `b`. Refused: NUL, absolute paths,
/// Windows drive letters (in any component) and UNC paths, and any `..` above the base.
/// Symbolic links are not looked at: use [`safe_join_fs`] when the base may contain links
/// an attacker could have created.
///
/// ```
/// use std::path::Path;
/// use palisade_sanitize::path::{safe_join, PathError};
///
/// let base = Path::new("/srv/uploads");
/// assert_eq!(safe_join(base, "tenant-1/./a.wav")?, Path::new("/srv/uploads/tenant-1/a.wav"));
/// assert_eq!(safe_join(base, "../../etc/passwd"), Err(PathError::ParentEscape));
/// assert_eq!(safe_join(base, "/etc/passwd"), Err(PathError::Absolute));
/// assert_eq!(safe_join(base, "C:\\Windows\\win.ini"), Err(PathError::DriveLetter));
/// assert_eq!(safe_join(base, "\\\\evil\\share"), Err(PathError::Unc));
/// # Ok::<(), PathError>(())
/// ```
///
/// # Errors
///
/// [`PathError::Empty`], [`PathError::Nul`], [`PathError::Absolute`],
/// [`PathError::DriveLetter`], [`PathError::Unc`] or [`PathError::ParentEscape`].
pub fn safe_join(base: &Path, user_path: &str) -> Result<PathBuf, PathError> {
    let mut out = base.to_path_buf();
    for part in components(user_path)? {
        out.push(part);
    }
    Ok(out)
}

/// [`safe_join`], then resolved on the filesystem: `base` is canonicalized (it must exist),
/// and every component that exists is resolved with its symbolic links; a link leading
/// outside the canonical base is refused. Components that do not exist yet (a file about to
/// be created) are appended as they are. The result is under the canonical base.
///
/// This checks the filesystem as it is at the call: a local attacker who can create links
/// in the base between this check and the `open` can still race it. Where that matters,
/// open relative to a directory handle with `openat2(RESOLVE_BENEATH)` (Linux) or a
/// capability library such as `cap-std`.
///
/// # Errors
///
/// Those of [`safe_join`]; [`PathError::SymlinkEscape`]; [`PathError::Io`] when the base
/// cannot be canonicalized or a component cannot be inspected (other than "not found").
pub fn safe_join_fs(base: &Path, user_path: &str) -> Result<PathBuf, PathError> {
    let parts = components(user_path)?;
    let root = base.canonicalize().map_err(|e| PathError::Io(e.kind()))?;
    let mut current = root.clone();
    let mut exists = true;
    for part in parts {
        let next = current.join(part);
        if exists {
            match std::fs::symlink_metadata(&next) {
                Ok(_) => {
                    let resolved = next.canonicalize().map_err(|e| match e.kind() {
                        // A dangling link: where it points cannot be checked.
                        io::ErrorKind::NotFound => PathError::SymlinkEscape,
                        kind => PathError::Io(kind),
                    })?;
                    if !resolved.starts_with(&root) {
                        return Err(PathError::SymlinkEscape);
                    }
                    current = resolved;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => exists = false,
                Err(e) => return Err(PathError::Io(e.kind())),
            }
        }
        current = next;
    }
    debug_assert!(
        current
            .components()
            .all(|c| !matches!(c, Component::ParentDir))
    );
    Ok(current)
}
