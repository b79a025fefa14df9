//! The AWS services this endpoint serves, one folder each. Services meet only through the event
//! bus and the object store (see DESIGN.md); today CodePipeline is the only one.

pub mod codepipeline;
