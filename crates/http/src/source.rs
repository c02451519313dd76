//! Where a request comes from, for the per-source failure budgets: the TCP peer, or, behind
//! trusted reverse proxies, the address they report in `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::AppState;
use crate::error::Error;

/// The address a request is attributed to (see [`client_address`]).
pub(crate) struct Source(pub(crate) IpAddr);

impl FromRequestParts<AppState> for Source {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::Internal("the server runs without peer addresses".into()))?;
        Ok(Self(client_address(
            peer.ip(),
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// The peer, unless it is one of `trusted_proxies`: then the nearest `X-Forwarded-For` hop,
/// from the right, that is not a trusted proxy. Proxies append what they saw, so everything
/// left of the first untrusted hop may be forged by the client and is never used. An
/// unreadable hop stops the walk at the last trusted one.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let trusted = |address: &IpAddr| trusted_proxies.iter().any(|net| net.contains(address));
    // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; budgets and CIDR blocks mean
    // the IPv4 address.
    let peer = peer.to_canonical();
    if !trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("?").split(','))
        .map(str::trim)
        .collect();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        let Ok(address) = hop.parse::<IpAddr>().map(|address| address.to_canonical()) else {
            return nearest;
        };
        if !trusted(&address) {
            return address;
        }
        nearest = address;
    }
    nearest
}
