//! Checks a JSON value against a schema inside the API's own OpenAPI 3.1
//! document (`$ref`s resolve within it).

use serde_json::Value;

/// `Ok` when `value` fits `schema`; otherwise every place where and why it does not.
pub fn check(document: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    super::specs::validate_in(document.clone(), schema, value)
}
