//! Talking to the test OpenID provider (`tests/idp/provider.mjs`).

use anyhow::{bail, Context as _, Result};
use base64::Engine as _;

/// Gets an access token with the client-credentials grant; each test client's
/// secret is `<client>-secret`.
pub fn client_credentials_token(issuer: &str, client: &str) -> Result<String> {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client}:{client}-secret"));
    let response = ureq::post(&format!("{issuer}/token"))
        .set("authorization", &format!("Basic {basic}"))
        .send_form(&[("grant_type", "client_credentials"), ("scope", "api")]);
    let response = match response {
        Ok(r) => r,
        Err(ureq::Error::Status(code, r)) => bail!("token request for {client} failed: HTTP {code}: {}", r.into_string()?),
        Err(e) => return Err(e.into()),
    };
    let body: serde_json::Value = response.into_json()?;
    body["access_token"].as_str().map(str::to_owned).context("token response has no access_token")
}

/// Rotates the provider's signing key; returns the new `kid`.
pub fn rotate(issuer: &str) -> Result<String> {
    let body: serde_json::Value = ureq::post(&format!("{issuer}/__rotate")).call()?.into_json()?;
    body["kid"].as_str().map(str::to_owned).context("rotation answer has no kid")
}
