//! Checks a JSON value against a JSON Schema inside an OpenAPI document: the
//! subset these documents use (types, required, properties, additional
//! properties, items, enum, oneOf/anyOf, `$ref`). Formats are not checked.

use serde_json::Value;

/// `Ok` when `value` fits `schema`; otherwise where and why it does not.
pub fn check(document: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    check_at(document, schema, value, "$")
}

fn check_at(document: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = reference
            .strip_prefix('#')
            .and_then(|pointer| document.pointer(pointer))
            .ok_or_else(|| format!("{at}: the document has no {reference}"))?;
        return check_at(document, target, value, at);
    }
    if let Some(choices) = schema.get("oneOf").or_else(|| schema.get("anyOf")) {
        let choices = choices.as_array().map(Vec::as_slice).unwrap_or_default();
        let fits = choices
            .iter()
            .filter(|choice| check_at(document, choice, value, at).is_ok())
            .count();
        if fits == 0 {
            return Err(format!(
                "{at}: {value} fits none of {} choices",
                choices.len()
            ));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.iter().any(|t| is_type(value, t)) {
            return Err(format!("{at}: {value} is not {}", types.join(" or ")));
        }
    }
    if let Value::Object(object) = value {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                return Err(format!("{at}: the required field `{name}` is missing"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, field) in object {
            let at = format!("{at}.{name}");
            match (
                properties.and_then(|p| p.get(name)),
                schema.get("additionalProperties"),
            ) {
                (Some(property), _) => check_at(document, property, field, &at)?,
                (None, Some(Value::Bool(false))) => {
                    return Err(format!("{at}: the schema has no such field"));
                }
                (None, Some(extra @ Value::Object(_))) => check_at(document, extra, field, &at)?,
                (None, _) => {}
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (index, item) in items.iter().enumerate() {
            check_at(document, item_schema, item, &format!("{at}[{index}]"))?;
        }
    }
    Ok(())
}

fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    }
}
