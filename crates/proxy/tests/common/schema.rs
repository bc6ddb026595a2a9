//! Checks a JSON value against a schema inside an OpenAPI 3.1 document with
//! a real JSON Schema (2020-12) validator: `$ref`s resolve within the document.

use serde_json::{Value, json};

/// `Ok` when `value` fits `schema`; otherwise every place where and why it does not.
pub fn check(document: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    // The document is the root resource, so `#/components/...` resolves;
    // its own keys (openapi, paths, ...) are not keywords and change nothing.
    let mut root = document.clone();
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
