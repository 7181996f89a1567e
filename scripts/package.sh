#!/usr/bin/env bash
# Packages every library crate of the workspace (crates/*) as crates.io would receive it, in
# dependency order, and checks what each package holds. See docs/releasing.md.
#
#   scripts/package.sh                     metadata checks, then `cargo package --workspace`
#                                          (each package built from its .crate: what CI runs)
#   scripts/package.sh --no-verify         the same without building the packages (fast)
#   scripts/package.sh --publish-dry-run   also `cargo publish --workspace --dry-run`
#                                          (before a release; fails for a version already on
#                                          crates.io, so not in CI)
#
# Checks, for every package under crates/ (the examples are `publish = false` and skipped):
# - metadata: description, licence `MIT OR Apache-2.0`, 1 to 5 keywords in crates.io's syntax,
#   1 to 5 categories from the reviewed list below, `readme = "README.md"`, repository,
#   homepage, documentation, rust-version, `[package.metadata.docs.rs]` with all-features;
# - LICENSE-MIT and LICENSE-APACHE beside its Cargo.toml, identical to the root's (copies,
#   not symlinks: a symlink checked out on Windows is a text file holding its target);
# - a row in docs/threat-model/README.md;
# - each `[workspace.dependencies]` entry with a `path` also has the `version` of that crate
#   (without it `cargo package` cannot rewrite the dependency for crates.io);
# - the .crate file holds Cargo.toml, README.md, LICENSE-MIT and LICENSE-APACHE (identical to
#   the root's); its file list is printed.
#
# `cargo package --workspace` (cargo >= 1.90) packages the crates in dependency order and
# verifies each one against the packages of its workspace dependencies (a local registry
# overlay under target/package/tmp-registry), so no crate needs to be on crates.io first; it
# needs the crates.io index for the other dependencies (CI reaches the registry).
set -euo pipefail
cd "$(dirname "$0")/.."

verify=(); publish_dry_run=0
for arg in "$@"; do
    case "$arg" in
        --no-verify) verify=(--no-verify) ;;
        --publish-dry-run) publish_dry_run=1 ;;
        *) echo "usage: scripts/package.sh [--no-verify] [--publish-dry-run]" >&2; exit 2 ;;
    esac
done

metadata=$(mktemp); unpublished=$(mktemp)
trap 'rm -f "$metadata" "$unpublished"' EXIT
cargo metadata --no-deps --format-version 1 > "$metadata"

# Prints the packages to publish, one `name version` per line, and writes the names of the
# members that are not published to "$unpublished". Fails with the list of problems.
packages=$(python3 - "$metadata" "$unpublished" <<'EOF'
import json, os, re, sys, tomllib

meta = json.load(open(sys.argv[1]))
root = meta["workspace_root"]
problems = []
# crates.io category slugs, each checked against crates.io's list when first used here. A new
# one is refused until it is checked and added (a misspelt slug is an error only at upload).
CATEGORIES = {
    "algorithms", "authentication", "command-line-utilities", "concurrency", "config",
    "cryptography", "database", "date-and-time", "development-tools::debugging", "encoding",
    "network-programming", "parser-implementations", "text-processing", "web-programming",
    "web-programming::http-server",
}
KEYWORD = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,19}$")
licence = {n: open(os.path.join(root, n), "rb").read() for n in ("LICENSE-MIT", "LICENSE-APACHE")}
index = open(os.path.join(root, "docs/threat-model/README.md")).read()
workspace = tomllib.load(open(os.path.join(root, "Cargo.toml"), "rb"))
versions = {}
unpublished = open(sys.argv[2], "w")

for p in meta["packages"]:
    name, d = p["name"], os.path.dirname(p["manifest_path"])
    rel = os.path.relpath(d, root)
    if p["publish"] == []:
        print(name, file=unpublished)
        if rel.startswith("crates/"):
            problems.append(f"{name}: a library crate under crates/ with publish = false")
        continue
    if not rel.startswith("crates/"):
        problems.append(f"{name} ({rel}): publishable but not under crates/ (set publish = false)")
        continue
    versions[name] = p["version"]
    def need(cond, what):
        if not cond:
            problems.append(f"{name}: {what}")
    need(p.get("description"), "no description")
    need(p.get("license") == "MIT OR Apache-2.0", f"licence {p.get('license')!r}")
    kw = p.get("keywords") or []
    need(1 <= len(kw) <= 5, f"{len(kw)} keywords (1 to 5)")
    for k in kw:
        need(KEYWORD.match(k), f"keyword {k!r}: ASCII, starts with a letter, at most 20 characters")
    cats = p.get("categories") or []
    need(1 <= len(cats) <= 5, f"{len(cats)} categories (1 to 5)")
    for c in cats:
        need(c in CATEGORIES, f"category {c!r} is not in scripts/package.sh's reviewed list")
    need(p.get("readme") and os.path.basename(p["readme"]) == "README.md"
         and os.path.isfile(os.path.join(d, "README.md")), "no README.md beside Cargo.toml")
    for field in ("repository", "homepage", "documentation", "rust_version"):
        need(p.get(field), f"no {field.replace('_', '-')}")
    docs_rs = (((p.get("metadata") or {}).get("docs") or {}).get("rs") or {})
    need(docs_rs.get("all-features") is True, "no [package.metadata.docs.rs] all-features = true")
    for n, text in licence.items():
        f = os.path.join(d, n)
        need(os.path.isfile(f) and not os.path.islink(f) and open(f, "rb").read() == text,
             f"{n} missing, a symlink, or not identical to the root's")
    need(f"`{name}`" in index, "no row in docs/threat-model/README.md")

for dep, spec in workspace["workspace"]["dependencies"].items():
    if isinstance(spec, dict) and "path" in spec:
        if dep not in versions:
            problems.append(f"[workspace.dependencies] {dep}: path to a crate that is not published")
        elif spec.get("version") is None:
            problems.append(f"[workspace.dependencies] {dep}: a path without version = \"{versions[dep]}\"")
        elif not spec["version"].lstrip("=^~").startswith(versions[dep].rsplit(".", 1)[0]):
            problems.append(f"[workspace.dependencies] {dep}: version {spec['version']} but the crate is {versions[dep]}")

if problems:
    print("package metadata problems:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
for name, version in sorted(versions.items()):
    print(name, version)
EOF
)
excludes=()
while read -r name; do excludes+=(--exclude "$name"); done < "$unpublished"
echo "packages: $(echo "$packages" | wc -l); not published: ${excludes[*]}"

target_dir=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["target_directory"])' "$metadata")
rm -f "$target_dir"/package/*.crate
# --allow-dirty: CI packages its fresh clone, and a developer may run this before committing.
cargo package --workspace "${excludes[@]}" --allow-dirty --locked "${verify[@]}"

echo
status=0
while read -r name version; do
    crate="$target_dir/package/$name-$version.crate"
    if [ ! -f "$crate" ]; then
        echo "$name: no $crate" >&2; status=1; continue
    fi
    files=$(tar -tzf "$crate" | sed "s|^$name-$version/||" | sort)
    echo "== $name $version: $(echo "$files" | wc -l) files, $(du -h "$crate" | cut -f1)"
    echo "$files" | sed 's/^/   /'
    for f in Cargo.toml README.md LICENSE-MIT LICENSE-APACHE; do
        if ! grep -qx "$f" <<< "$files"; then
            echo "$name: $f is not in the package" >&2; status=1
        fi
    done
    for f in LICENSE-MIT LICENSE-APACHE; do
        if ! tar -xzOf "$crate" "$name-$version/$f" 2>/dev/null | cmp -s - "$f"; then
            echo "$name: the packaged $f differs from the root's" >&2; status=1
        fi
    done
done <<< "$packages"
[ "$status" -eq 0 ] || exit "$status"

if [ "$publish_dry_run" -eq 1 ]; then
    cargo publish --workspace "${excludes[@]}" --dry-run --allow-dirty --locked "${verify[@]}"
fi
echo "every library crate packages, with its README and licence files"
