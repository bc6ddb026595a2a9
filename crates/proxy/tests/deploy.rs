//! What the repository ships for deploying Watchpost, checked without a
//! cloud or a container daemon: the Render Blueprints against Render's
//! published schema and against what the binary accepts, the container
//! recipe's shape, and the reverse-proxy examples' flags.

mod common;

use std::path::{Path, PathBuf};

use common::process::watchpost;
use serde_json::Value;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn yaml(path: &str) -> Value {
    serde_yaml_ng::from_str(&read(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// Render's Blueprint schema, as kept in the repository (deploy/render/SCHEMA.md).
fn blueprint_schema() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&read("deploy/render/render.yaml.schema.json")).expect("JSON");
    assert_eq!(schema["$id"], "https://render.com/schema/render.yaml.json");
    jsonschema::draft202012::new(&schema).expect("a valid draft 2020-12 schema")
}

fn problems(validator: &jsonschema::Validator, blueprint: &Value) -> Vec<String> {
    validator
        .iter_errors(blueprint)
        .map(|err| format!("{}: {err}", err.instance_path()))
        .collect()
}

fn help() -> String {
    let output = watchpost().arg("--help").output().expect("watchpost runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The service's environment variables, by key.
fn env_vars(service: &Value) -> Vec<(String, Value)> {
    service["envVars"]
        .as_array()
        .expect("envVars")
        .iter()
        .map(|var| {
            (
                var["key"].as_str().unwrap_or_default().to_owned(),
                var.clone(),
            )
        })
        .collect()
}

fn env<'a>(vars: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    vars.iter().find(|(k, _)| k == key).map(|(_, var)| var)
}

/// Every variable Watchpost reads is one its `--help` names (a typo would
/// be silently ignored by Render), and every secret waits for a person.
fn the_variables_are_watchpost_s(vars: &[(String, Value)], help: &str) {
    for (key, _) in vars {
        if key != "PORT" {
            assert!(
                help.contains(key.as_str()),
                "{key} is not a Watchpost setting"
            );
        }
    }
    for secret in [
        "SENTRY_AUTH_TOKEN",
        "RENDER_API_KEY",
        "SLACK_WEBHOOK_URL",
        "WATCHPOST_TEAM_PASSCODE",
        "WATCHPOST_ADMIN_PASSCODE",
    ] {
        let var = env(vars, secret).unwrap_or_else(|| panic!("{secret} is asked for"));
        assert_eq!(
            var["sync"], false,
            "{secret} is entered in Render, never in the file"
        );
        assert!(
            var.get("value").is_none(),
            "{secret} has no value in the file"
        );
    }
    let addr = env(vars, "WATCHPOST_ADDR").expect("an address")["value"]
        .as_str()
        .expect("text")
        .to_owned();
    let port = env(vars, "PORT").expect("Render's port")["value"].to_string();
    assert!(
        addr.starts_with("0.0.0.0:") && addr.ends_with(&port),
        "{addr} / {port}"
    );
}

#[test]
fn the_blueprints_are_valid_against_render_s_published_schema() {
    let validator = blueprint_schema();
    for path in ["render.yaml", "deploy/render/single-instance.yaml"] {
        let problems = problems(&validator, &yaml(path));
        assert!(problems.is_empty(), "{path}: {problems:#?}");
    }
    // The schema bites: a setting Render does not know is refused.
    let mut wrong = yaml("render.yaml");
    wrong["services"][0]["healthCheckInterval"] = 30.into();
    assert!(!problems(&validator, &wrong).is_empty());
    let mut wrong = yaml("render.yaml");
    wrong["services"][0]["envVars"][0]["fromDatabase"]["property"] = "url".into();
    assert!(!problems(&validator, &wrong).is_empty());
}

#[test]
fn two_instances_share_a_render_postgresql_database() {
    let blueprint = yaml("render.yaml");
    let service = &blueprint["services"][0];
    assert_eq!(service["type"], "web");
    assert_eq!(service["numInstances"], 2);
    assert_eq!(service["healthCheckPath"], "/api/health");
    assert_eq!(service["dockerfilePath"], "./Dockerfile");
    assert!(
        service.get("disk").is_none(),
        "a disk would allow one instance only"
    );
    let vars = env_vars(service);
    let database = &env(&vars, "DATABASE_URL").expect("DATABASE_URL")["fromDatabase"];
    assert_eq!(database["property"], "connectionString");
    assert_eq!(blueprint["databases"][0]["name"], database["name"]);
    the_variables_are_watchpost_s(&vars, &help());
}

#[test]
fn the_single_instance_variant_keeps_sqlite_on_its_disk() {
    let blueprint = yaml("deploy/render/single-instance.yaml");
    let service = &blueprint["services"][0];
    assert_eq!(service["numInstances"], 1);
    assert_eq!(service["healthCheckPath"], "/api/health");
    let vars = env_vars(service);
    assert!(env(&vars, "DATABASE_URL").is_none());
    assert_eq!(
        env(&vars, "WATCHPOST_DATA_DIR").expect("a data dir")["value"],
        service["disk"]["mountPath"],
        "the store is on the disk"
    );
    the_variables_are_watchpost_s(&vars, &help());
}

/// The instructions of each stage of the Dockerfile, continuation lines joined.
fn stages(dockerfile: &str) -> Vec<Vec<String>> {
    let joined = dockerfile.replace("\\\n", " ");
    let mut stages: Vec<Vec<String>> = Vec::new();
    for line in joined.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("FROM ") {
            stages.push(Vec::new());
        }
        stages
            .last_mut()
            .expect("FROM comes first")
            .push(line.to_owned());
    }
    stages
}

#[test]
fn the_container_recipe_builds_with_the_repository_s_script_and_runs_unprivileged() {
    let stages = stages(&read("Dockerfile"));
    assert_eq!(stages.len(), 2, "a build stage and a run stage");
    let (build, run) = (&stages[0], &stages[1]);
    assert!(build[0].ends_with(" AS build"), "{}", build[0]);
    assert!(
        build
            .iter()
            .any(|line| line.starts_with("RUN scripts/build")),
        "the build stage runs the script people run"
    );
    assert!(repo("scripts/build").exists());
    // The run stage: only the binary, the built app and an empty data directory.
    let copies: Vec<&String> = run.iter().filter(|line| line.starts_with("COPY")).collect();
    assert_eq!(copies.len(), 3, "{copies:?}");
    for copy in &copies {
        assert!(copy.starts_with("COPY --from=build "), "{copy}");
    }
    let user = run
        .iter()
        .find_map(|line| line.strip_prefix("USER "))
        .expect("a USER");
    assert!(!["root", "0", "0:0"].contains(&user), "runs as {user}");
    assert!(
        run.iter()
            .any(|line| line == r#"ENTRYPOINT ["/usr/local/bin/watchpost"]"#),
        "the binary itself, no shell: SIGTERM reaches it"
    );
    // What it sets is what the binary reads; it listens where it says.
    let help = help();
    let env = run
        .iter()
        .find_map(|line| line.strip_prefix("ENV "))
        .expect("ENV");
    for setting in env.split_whitespace() {
        let (key, value) = setting.split_once('=').expect("KEY=value");
        assert!(help.contains(key), "{key}");
        if key == "WATCHPOST_ADDR" {
            let port = value.rsplit(':').next().expect("a port");
            assert!(run.contains(&format!("EXPOSE {port}")));
        }
    }
    let ignored = read(".dockerignore");
    for path in ["target", ".git"] {
        assert!(
            ignored.lines().any(|line| line == path),
            "{path} stays out of the context"
        );
    }
}

#[test]
fn the_reverse_proxy_examples_name_the_flags_that_make_them_safe() {
    let help = help();
    for path in ["deploy/caddy/Caddyfile", "deploy/nginx/watchpost.conf"] {
        let example = read(path);
        for flag in [
            "--public-origin https://watchpost.example.com",
            "--trusted-proxy 127.0.0.1",
            "--addr 127.0.0.1:8080",
        ] {
            assert!(example.contains(flag), "{path}: {flag}");
            assert!(help.contains(flag.split(' ').next().expect("flag")));
        }
        assert!(
            example.contains("127.0.0.1:8080"),
            "{path} proxies to where Watchpost listens"
        );
    }
    let nginx = read("deploy/nginx/watchpost.conf");
    for directive in [
        "proxy_set_header Host $host;",
        "X-Forwarded-For",
        "proxy_buffering off;",
    ] {
        assert!(nginx.contains(directive), "{directive}");
    }
}
