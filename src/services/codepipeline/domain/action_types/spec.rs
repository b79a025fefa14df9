//! The static description of an action type: what the catalog of AWS-owned types is written in,
//! and what custom types are converted to, so validation and the API read one shape.

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

/// One configuration property of an AWS-owned action type (compile-time data).
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

/// URL templates shown by the console and returned in `settings`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SettingsSpec {
    pub third_party_configuration_url: Option<&'static str>,
    pub entity_url_template: Option<&'static str>,
    pub execution_url_template: Option<&'static str>,
    pub revision_url_template: Option<&'static str>,
}

/// One AWS-owned (or ThirdParty GitHub v1) action type of the catalog (compile-time data).
#[derive(Debug, Clone, Copy)]
pub struct ActionTypeSpec {
    /// `Source | Build | Deploy | Test | Invoke | Approval | Compute`
    pub category: &'static str,
    /// `AWS` or `ThirdParty`
    pub owner: &'static str,
    pub provider: &'static str,
    pub version: &'static str,
    /// inclusive (minimum, maximum) input artifact counts
    pub input_artifacts: (u32, u32),
    /// inclusive (minimum, maximum) output artifact counts
    pub output_artifacts: (u32, u32),
    pub properties: &'static [PropertySpec],
    pub settings: SettingsSpec,
}

/// Shorthand for a property in the catalog table.
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
