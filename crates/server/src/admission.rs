//! Who may send an upload now: at most [`crate::Config::max_uploads`]
//! uploads are received at once, and at most
//! [`crate::Config::max_uploads_per_client`] from one address, so that one
//! client cannot take every place by opening many slow uploads.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::Gauge;

/// The address a connection came from, set on each request by the accept loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub IpAddr);

/// Why an upload may not start now.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Every upload place is taken.
    Full,
    /// This client already sends as many uploads as it may.
    ClientFull(usize),
}

/// The places for uploads being received.
pub(crate) struct UploadPlaces {
    total: Arc<Semaphore>,
    per_client: Mutex<HashMap<IpAddr, usize>>,
    client_cap: usize,
}

/// One upload's place, given back when dropped.
pub(crate) struct UploadPlace {
    _permit: OwnedSemaphorePermit,
    _receiving: Gauge,
    client: Option<(Arc<UploadPlaces>, IpAddr)>,
}

impl UploadPlaces {
    /// `total` places in all, `client_cap` per address.
    pub(crate) fn new(total: usize, client_cap: usize) -> Arc<Self> {
        Arc::new(Self {
            total: Arc::new(Semaphore::new(total.max(1))),
            per_client: Mutex::new(HashMap::new()),
            client_cap: client_cap.max(1),
        })
    }

    /// A place for an upload from `client` (unknown: only the total
    /// applies), counted in `receiving` while held.
    pub(crate) fn enter(
        self: &Arc<Self>,
        client: Option<IpAddr>,
        receiving: Gauge,
    ) -> Result<UploadPlace, Refusal> {
        let permit = self.total.clone().try_acquire_owned().map_err(|_| Refusal::Full)?;
        let client = match client {
            Some(ip) => {
                let mut counts = self.per_client.lock().unwrap_or_else(|p| p.into_inner());
                let count = counts.entry(ip).or_default();
                if *count >= self.client_cap {
                    return Err(Refusal::ClientFull(self.client_cap));
                }
                *count += 1;
                Some((self.clone(), ip))
            }
            None => None,
        };
        Ok(UploadPlace { _permit: permit, _receiving: receiving, client })
    }
}

impl Drop for UploadPlace {
    fn drop(&mut self) {
        if let Some((places, ip)) = &self.client {
            let mut counts = places.per_client.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(count) = counts.get_mut(ip) {
                *count -= 1;
                if *count == 0 {
                    counts.remove(ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicI64;

    use super::*;

    fn gauge() -> Gauge {
        Gauge::enter(&Arc::new(AtomicI64::new(0)))
    }

    #[test]
    fn one_client_gets_its_share_and_others_still_get_in() {
        let places = UploadPlaces::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = places.enter(Some(a), gauge()).unwrap();
        let _second = places.enter(Some(a), gauge()).unwrap();
        assert!(matches!(places.enter(Some(a), gauge()), Err(Refusal::ClientFull(2))));
        let _other = places.enter(Some(b), gauge()).unwrap();
        drop(first);
        let _again = places.enter(Some(a), gauge()).unwrap();
        assert!(matches!(places.enter(Some(b), gauge()), Err(Refusal::Full)));
    }
}
