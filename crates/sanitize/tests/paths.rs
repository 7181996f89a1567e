//! `safe_join` and `safe_join_fs`: traversal forms, Windows forms, NUL, symlinks in a real
//! temporary directory, and the property that no input yields a path outside the base.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Component, Path};

use palisade_sanitize::path::{PathError, safe_join, safe_join_fs};
use proptest::prelude::*;

#[test]
fn traversal_and_platform_forms_are_refused() {
    let base = Path::new("/srv/uploads");
    let cases: &[(&str, PathError)] = &[
        ("../secret", PathError::ParentEscape),
        ("a/../../secret", PathError::ParentEscape),
        ("a/b/../../..", PathError::ParentEscape),
        ("..\\..\\windows\\win.ini", PathError::ParentEscape),
        ("a\\..\\..\\x", PathError::ParentEscape),
        ("/etc/passwd", PathError::Absolute),
        ("\\windows", PathError::Absolute),
        ("C:\\windows\\win.ini", PathError::DriveLetter),
        ("c:/windows", PathError::DriveLetter),
        ("C:file", PathError::DriveLetter),
        ("a/D:/x", PathError::DriveLetter),
        ("\\\\server\\share\\x", PathError::Unc),
        ("//server/share", PathError::Unc),
        ("\\\\?\\C:\\x", PathError::Unc),
        ("a\0b", PathError::Nul),
        ("ok.txt\0.png", PathError::Nul),
        ("", PathError::Empty),
        (".", PathError::Empty),
        ("a/..", PathError::Empty),
    ];
    for (input, want) in cases {
        assert_eq!(safe_join(base, input), Err(*want), "{input:?}");
    }
}

#[test]
fn relative_paths_stay_under_the_base() {
    let base = Path::new("/srv/uploads");
    for (input, want) in [
        ("a.wav", "/srv/uploads/a.wav"),
        ("t1/./calls//a.wav", "/srv/uploads/t1/calls/a.wav"),
        ("t1/x/../a.wav", "/srv/uploads/t1/a.wav"),
        ("t1\\a.wav", "/srv/uploads/t1/a.wav"),
        ("..a/b..", "/srv/uploads/..a/b.."),
        ("...", "/srv/uploads/..."),
        ("ab:c", "/srv/uploads/ab:c"),
    ] {
        assert_eq!(
            safe_join(base, input).unwrap(),
            Path::new(want),
            "{input:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn symlinks_leaving_the_base_are_refused() {
    use std::os::unix::fs::symlink;

    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "s").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    std::fs::create_dir_all(base.join("inner")).unwrap();
    std::fs::write(base.join("inner/ok.txt"), "ok").unwrap();
    symlink(outside.path(), base.join("escape")).unwrap();
    symlink(outside.path().join("secret.txt"), base.join("secret-link")).unwrap();
    symlink(base.join("inner"), base.join("inner-link")).unwrap();
    symlink("../..", base.join("inner/up")).unwrap();
    symlink(dir.path().join("nowhere"), base.join("dangling")).unwrap();

    // Lexically these are fine: only the filesystem variant sees the links.
    assert!(safe_join(&base, "escape/secret.txt").is_ok());
    for input in [
        "escape/secret.txt",
        "escape",
        "secret-link",
        "inner/up/x",
        "dangling",
        "escape/new-file",
    ] {
        assert_eq!(
            safe_join_fs(&base, input),
            Err(PathError::SymlinkEscape),
            "{input}"
        );
    }
    let canon = base.canonicalize().unwrap();
    assert_eq!(
        safe_join_fs(&base, "inner-link/ok.txt").unwrap(),
        canon.join("inner/ok.txt")
    );
    assert_eq!(
        safe_join_fs(&base, "inner/new/file.wav").unwrap(),
        canon.join("inner/new/file.wav")
    );
    assert_eq!(safe_join_fs(&base, "../x"), Err(PathError::ParentEscape));
    assert!(matches!(
        safe_join_fs(&dir.path().join("missing"), "x"),
        Err(PathError::Io(_))
    ));
}

/// Path-like strings built from the pieces attacks are made of.
fn hostile_path() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "..", ".", "", "a", "b.txt", "C:", "c:x", "\\", "/", "\0", "~", "%2e%2e", "..\\", "…",
        "\u{202E}", ":", "//", "\\\\",
    ]);
    prop::collection::vec(
        prop_oneof![piece.prop_map(str::to_owned), "\\PC{0,4}"],
        0..10,
    )
    .prop_map(|parts| parts.join("/"))
}

proptest! {
    #[test]
    fn safe_join_never_leaves_the_base(user in prop_oneof![hostile_path(), "\\PC{0,30}"]) {
        let base = Path::new("/srv/uploads");
        if let Ok(joined) = safe_join(base, &user) {
            prop_assert!(joined.starts_with(base));
            let rest = joined.strip_prefix(base).unwrap();
            prop_assert!(rest.components().count() >= 1);
            for c in rest.components() {
                prop_assert!(matches!(c, Component::Normal(_)), "{c:?} in {joined:?}");
            }
            prop_assert!(!joined.to_string_lossy().contains('\0'));
        }
    }
}

/// Only "not found" means the rest of the path is yet to be created: any other error while
/// inspecting a component (here a component under a regular file) is returned.
#[test]
fn fs_errors_other_than_not_found_are_returned() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), b"x").unwrap();
    assert!(matches!(
        safe_join_fs(dir.path(), "file/child"),
        Err(PathError::Io(_))
    ));
    // A missing component is fine: the path is where a new file would go.
    let root = dir.path().canonicalize().unwrap();
    assert_eq!(
        safe_join_fs(dir.path(), "new/child").unwrap(),
        root.join("new/child")
    );
}
