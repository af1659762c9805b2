//! `--param NAME=VALUE` options, as every training command takes them.

use anyhow::{Result, anyhow};
use genreid_models::classical::Params;

/// The `--param NAME=VALUE` options as the model kinds' parameters.
pub(crate) fn parse_params(raw: &[String]) -> Result<Params> {
    raw.iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| anyhow!("--param {p:?}: expected NAME=VALUE"))
        })
        .collect()
}
