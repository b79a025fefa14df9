//! placeholder
mod common;
#[allow(unused_imports)]
use common::*;
