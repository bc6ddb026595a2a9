//! The upstream services' OpenAPI documents (`crates/fakes/specs`, copies of
//! those in ../shared/specs, so that a clone anywhere tests; or
//! `WATCHPOST_SPECS`): the fakes build their answers from these documents'
//! schemas, and tests check answers and requests against them with a real
//! JSON Schema validator.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value, json};

pub const SENTRY: &str = "sentry-openapi-0.272.0.json";
/// The last Sentry document with the legacy alert-rule endpoints.
pub const SENTRY_LEGACY: &str = "sentry-openapi-0.146.0.json";
pub const RENDER: &str = "render-openapi-1.0.0.json";

fn specs_dir() -> PathBuf {
    std::env::var_os("WATCHPOST_SPECS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs"),
        PathBuf::from,
    )
}

/// A document, with OpenAPI 3.0's `nullable` made JSON Schema (`type: [T, "null"]`).
pub fn document(name: &str) -> &'static Value {
    static DOCUMENTS: OnceLock<Mutex<HashMap<String, &'static Value>>> = OnceLock::new();
    let mut documents = DOCUMENTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    documents.entry(name.to_owned()).or_insert_with(|| {
        let path = specs_dir().join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|err| {
            panic!(
                "{} is needed to check the fakes against the real API ({err}); set WATCHPOST_SPECS to the directory that holds it",
                path.display()
            )
        });
        let mut value: Value = serde_json::from_str(&text).expect("a JSON document");
        nullable_to_json_schema(&mut value);
        Box::leak(Box::new(value))
    })
}

fn nullable_to_json_schema(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object.remove("nullable") == Some(Value::Bool(true)) {
                match object.get("type").cloned() {
                    Some(Value::String(kind)) => {
                        object.insert("type".into(), json!([kind, "null"]));
                        if let Some(Value::Array(allowed)) = object.get_mut("enum") {
                            allowed.push(Value::Null);
                        }
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(object));
                        object.insert("anyOf".into(), json!([inner, { "type": "null" }]));
                    }
                }
            }
            object.values_mut().for_each(nullable_to_json_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_to_json_schema),
        _ => {}
    }
}

/// The operation `method path` of `document`, or a panic naming it: a fake
/// that serves a route the document lacks does not follow the spec.
pub fn operation(document: &'static Value, method: &str, path: &str) -> &'static Value {
    document["paths"]
        .get(path)
        .and_then(|item| item.get(method))
        .unwrap_or_else(|| panic!("the document has no {method} {path}"))
}

/// The JSON schema of an operation's answer with `status`.
pub fn response_schema(
    document: &'static Value,
    method: &str,
    path: &str,
    status: &str,
) -> &'static Value {
    let response = &operation(document, method, path)["responses"][status];
    let response = resolve(document, response);
    &response["content"]["application/json"]["schema"]
}

/// The JSON schema of an operation's request body.
pub fn request_schema(document: &'static Value, method: &str, path: &str) -> &'static Value {
    let body = resolve(document, &operation(document, method, path)["requestBody"]);
    &body["content"]["application/json"]["schema"]
}

/// The names of the query parameters an operation takes.
pub fn query_parameters(document: &'static Value, method: &str, path: &str) -> Vec<String> {
    let item = &document["paths"][path];
    item["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            operation(document, method, path)["parameters"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .map(|parameter| resolve(document, parameter))
        .filter(|parameter| parameter["in"] == "query")
        .filter_map(|parameter| parameter["name"].as_str().map(str::to_owned))
        .collect()
}

fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix('#')
            .and_then(|pointer| document.pointer(pointer))
            .map_or(value, |target| resolve(document, target)),
        None => value,
    }
}

/// `Ok` when `value` fits `schema` (a schema inside `document`).
pub fn validate(document: &'static Value, schema: &Value, value: &Value) -> Result<(), String> {
    let mut root = Map::new();
    // Schemas may point into either.
    root.insert("components".into(), document["components"].clone());
    root.insert("paths".into(), document["paths"].clone());
    validate_in(Value::Object(root), schema, value)
}

/// `Ok` when `value` fits `schema`, whose `$ref`s point into `root` (a
/// document, or the parts of one), with a JSON Schema 2020-12 validator;
/// otherwise every place where and why it does not.
pub fn validate_in(mut root: Value, schema: &Value, value: &Value) -> Result<(), String> {
    // The document's own keys (openapi, paths, ...) are not keywords and change nothing.
    root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    root["allOf"] = json!([schema]);
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .map_err(|err| format!("the schema does not compile: {err}"))?;
    let problems: Vec<String> = validator
        .iter_errors(value)
        .map(|err| format!("{}: {err}", err.instance_path()))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The smallest value that fits `schema`: every required field with the
/// plainest value of its type. Fakes overlay what a test is about.
pub fn example(document: &'static Value, schema: &Value) -> Value {
    let schema = resolve(document, schema);
    if let Some(choices) = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
        && let Some(first) = choices.first()
    {
        return example(document, first);
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in parts {
            if let Value::Object(object) = example(document, part) {
                merged.extend(object);
            }
        }
        return Value::Object(merged);
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    let kind = match schema.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "null",
    };
    match kind {
        "object" => {
            let mut object = Map::new();
            let properties = schema.get("properties");
            for name in schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let property = properties.and_then(|p| p.get(name)).unwrap_or(&Value::Null);
                object.insert(name.to_owned(), example(document, property));
            }
            Value::Object(object)
        }
        "array" => json!([]),
        "string" => match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2026-11-22T12:00:00Z"),
            Some("uri" | "url") => json!("https://example.com/"),
            _ => json!("x"),
        },
        "integer" | "number" => json!(0),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

/// `base` with every field of `overlay` put over it, recursively for objects.
pub fn overlay(mut base: Value, overlay: Value) -> Value {
    match (&mut base, overlay) {
        (Value::Object(base_object), Value::Object(fields)) => {
            for (name, value) in fields {
                let merged = match base_object.remove(&name) {
                    Some(existing) => self::overlay(existing, value),
                    None => value,
                };
                base_object.insert(name, merged);
            }
            base
        }
        (_, value) => value,
    }
}
