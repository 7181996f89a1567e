//! The facade covers every library crate of the workspace: each `palisade-<name>` under
//! `crates/` is an optional dependency with a feature `<name>` that enables it and a
//! `pub use palisade_<name> as <name>` re-export; and each palisade-tower feature that adds a
//! layer for another crate (`auth`, `rbac`, `audit`) is enabled by the facade feature of that
//! crate, so a facade user with `tower` reaches every layer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

fn manifest(path: &Path) -> toml::Table {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn strings(value: Option<&toml::Value>) -> Vec<String> {
    value
        .and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn table<'t>(t: &'t toml::Table, key: &str) -> &'t toml::Table {
    t.get(key)
        .and_then(toml::Value::as_table)
        .unwrap_or_else(|| panic!("no [{key}] table"))
}

/// The library crates under `crates/` other than the facade: (folder, package name).
fn library_crates() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let workspace = manifest(&root.join("Cargo.toml"));
    let members = strings(table(&workspace, "workspace").get("members"));
    let mut crates = Vec::new();
    for member in members {
        let Some(folder) = member.strip_prefix("crates/") else {
            continue; // examples/*: not published, not in the facade
        };
        let package = manifest(&root.join(&member).join("Cargo.toml"));
        let name = table(&package, "package")["name"]
            .as_str()
            .unwrap()
            .to_owned();
        // The facade itself, and the `palisade` command (a binary, `cargo install`ed).
        if name == "palisade" || name == "palisade-cli" {
            continue;
        }
        crates.push((folder.to_owned(), name));
    }
    crates
}

#[test]
fn every_library_crate_has_a_facade_feature_and_re_export() {
    let facade = manifest(&Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
    let lib_rs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let deps = table(&facade, "dependencies");
    let features = table(&facade, "features");
    let crates = library_crates();
    assert!(crates.len() >= 14, "found only {crates:?}");
    for (folder, name) in crates {
        let dep = deps
            .get(&name)
            .and_then(toml::Value::as_table)
            .unwrap_or_else(|| panic!("{name} is not a dependency of the facade"));
        assert_eq!(
            dep.get("optional").and_then(toml::Value::as_bool),
            Some(true),
            "{name} is not optional in the facade"
        );
        let enables = strings(features.get(&folder));
        assert!(
            enables.contains(&format!("dep:{name}")),
            "facade feature `{folder}` does not enable dep:{name} (it is {enables:?})"
        );
        let module = folder.replace('-', "_");
        let re_export = format!(
            "#[cfg(feature = \"{folder}\")]\n#[doc(inline)]\npub use {} as {module};",
            name.replace('-', "_")
        );
        assert!(
            lib_rs.contains(&re_export),
            "src/lib.rs lacks:\n{re_export}"
        );
    }
}

#[test]
fn every_tower_layer_feature_is_reachable_from_the_facade() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tower = manifest(&root.join("crates/tower/Cargo.toml"));
    let facade = manifest(&Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
    let facade_features = table(&facade, "features");
    let mut checked = 0;
    for (feature, enables) in table(&tower, "features") {
        // A feature of palisade-tower that adds a layer for another palisade crate.
        let Some(folder) = strings(Some(enables))
            .iter()
            .find_map(|e| e.strip_prefix("dep:palisade-").map(str::to_owned))
        else {
            continue;
        };
        let facade_feature = strings(facade_features.get(&folder));
        assert!(
            facade_feature.contains(&format!("palisade-tower?/{feature}")),
            "facade feature `{folder}` does not enable palisade-tower's `{feature}` \
             (it is {facade_feature:?})"
        );
        checked += 1;
    }
    assert!(
        checked >= 3,
        "palisade-tower's auth, rbac and audit features"
    );
}
