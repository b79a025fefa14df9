//! Compiled-in property descriptions, for the condition rule types (`condition_rule_types`);
//! the action-type catalog is data (`model/action-types.toml`).

/// The value type of a configuration property, as `ListActionTypes` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyType {
    String,
    Number,
    Boolean,
}

impl PropertyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PropertyType::String => "String",
            PropertyType::Number => "Number",
            PropertyType::Boolean => "Boolean",
        }
    }
}

/// One configuration property of a condition rule type (compile-time data).
#[derive(Debug, Clone, Copy)]
pub struct PropertySpec {
    pub name: &'static str,
    pub required: bool,
    pub key: bool,
    pub secret: bool,
    pub queryable: bool,
    pub description: &'static str,
    pub kind: PropertyType,
}

/// Shorthand for a property in a compiled-in table.
pub const fn prop(
    name: &'static str,
    required: bool,
    key: bool,
    secret: bool,
    queryable: bool,
    kind: PropertyType,
    description: &'static str,
) -> PropertySpec {
    PropertySpec {
        name,
        required,
        key,
        secret,
        queryable,
        description,
        kind,
    }
}

/// A required, key, non-secret property.
pub const fn required(
    name: &'static str,
    kind: PropertyType,
    description: &'static str,
) -> PropertySpec {
    prop(name, true, true, false, false, kind, description)
}

/// An optional, non-key, non-secret property.
pub const fn optional(
    name: &'static str,
    kind: PropertyType,
    description: &'static str,
) -> PropertySpec {
    prop(name, false, false, false, false, kind, description)
}
