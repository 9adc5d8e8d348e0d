//! Keyed mode: stations that share a key accept no forged, altered or
//! replayed whohas frame (see `docs/SECURITY.md`).
//!
//! [`AuthDevice`] wraps any [`LinkDevice`]. Every name-ARP, data, transfer
//! and presence frame it sends gets a trailer ([`wire::auth`](crate::wire::auth)):
//! the sender's epoch (random per run) and frame counter, and an
//! HMAC-SHA-256 tag over the whole frame truncated to 16 bytes. A name-ARP
//! reply also echoes the epoch and counter of the request it answers. A
//! received frame of those ethertypes reaches the node only if its tag is
//! right, its stamp is new (a replay window per sender and epoch), and, for
//! a name-ARP reply, its echo is one of this station's recent requests; the
//! trailer is removed first. Everything else (standard ARP, IPv4…) passes
//! through unchanged. The node above needs no change: an unauthenticated
//! frame never reaches it, so it never answers or learns from one.

mod replay;

use core::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::device::Wait;
use crate::device::{Capabilities, LinkDevice};
use crate::rng::Rng;
use crate::wire::auth::{AuthRepr, COVERED_LEN, Stamp, TAG_LEN, TRAILER_LEN};
use crate::wire::ethernet::{HEADER_LEN, MAX_BUFFERED_FRAME_LEN, MIN_FRAME_LEN};
use crate::wire::{EtherType, EthernetAddress, EthernetFrame};

pub use replay::{Replay, WINDOW};

/// Length of a key.
pub const KEY_LEN: usize = 32;
/// Recent name-ARP requests of this station whose answers are accepted.
const REQUESTS_REMEMBERED: usize = 8;
/// Requesters whose latest request a reply echoes.
const REQUESTERS_REMEMBERED: usize = 8;
/// Frames one `receive` drops at most before it returns.
const MAX_DROPPED_PER_CALL: usize = 32;

/// A pre-shared key: 32 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(pub [u8; KEY_LEN]);

impl core::fmt::Debug for Key {
    /// Never prints the key.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Key(..)")
    }
}

/// A key, ready to sign and check frames (the HMAC's keyed state).
#[derive(Clone)]
pub struct Signer {
    keyed: Hmac<Sha256>,
}

impl Signer {
    /// A signer for `key`.
    pub fn new(key: &Key) -> Signer {
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(&key.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        Signer { keyed }
    }

    /// The tag of `covered`: HMAC-SHA-256, first 16 bytes.
    pub fn tag(&self, covered: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.keyed.clone();
        mac.update(covered);
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }

    /// Checks the trailer ending `frame` (in constant time): the frame's
    /// length without it and the trailer's fields, or `None` when the tag
    /// is wrong or there is no trailer. Freshness is the caller's to check.
    pub fn check(&self, frame: &[u8]) -> Option<(usize, AuthRepr)> {
        let (covered, repr, tag) = AuthRepr::parse(frame).ok()?;
        let mut mac = self.keyed.clone();
        mac.update(covered);
        mac.verify_truncated_left(tag).ok()?;
        (repr.stamp.epoch != 0).then_some((frame.len() - TRAILER_LEN, repr))
    }
}

/// Whether frames of `ethertype` carry a trailer in keyed mode.
pub fn is_protected(ethertype: EtherType) -> bool {
    matches!(ethertype, EtherType::NAME_ARP | EtherType::DATA | EtherType::TRANSFER | EtherType::PRESENCE)
}

/// What keyed mode counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AuthStats {
    /// Frames sent with a trailer.
    pub tx_signed: u64,
    /// Frames whose tag and stamp were good.
    pub rx_verified: u64,
    /// Frames dropped: no trailer, a wrong tag (forged, altered, another
    /// key, or none).
    pub rx_auth_failures: u64,
    /// Frames dropped: a stamp already seen, or too old.
    pub rx_replays: u64,
    /// name-ARP replies dropped: they echo no recent request of this
    /// station (a replayed or unsolicited answer).
    pub rx_stale_replies: u64,
    /// Frames of other ethertypes passed through.
    pub rx_passed: u64,
}

/// Why a frame was dropped.
enum Rejection {
    Auth,
    Replay,
    Stale,
}

/// A device whose whohas frames are authenticated with a pre-shared key;
/// it remembers the replay windows of up to `PEERS` senders.
pub struct AuthDevice<D, const PEERS: usize = 16> {
    inner: D,
    signer: Signer,
    rng: Rng,
    stamp: Stamp,
    /// Counters of this station's recent name-ARP requests.
    requests: [u32; REQUESTS_REMEMBERED],
    next_request: usize,
    /// The latest request of recent requesters, for a reply to echo.
    requesters: [(EthernetAddress, Stamp); REQUESTERS_REMEMBERED],
    next_requester: usize,
    replay: Replay<PEERS>,
    frame: [u8; MAX_BUFFERED_FRAME_LEN],
    stats: AuthStats,
}

impl<D: LinkDevice, const PEERS: usize> AuthDevice<D, PEERS> {
    /// Wraps `inner`; `seed` (from a random source: it picks the epoch)
    /// must differ from run to run.
    pub fn new(inner: D, key: &Key, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let stamp = Stamp { epoch: new_epoch(&mut rng), counter: 0 };
        AuthDevice {
            inner,
            signer: Signer::new(key),
            rng,
            stamp,
            requests: [0; REQUESTS_REMEMBERED],
            next_request: 0,
            requesters: [(EthernetAddress::UNSPECIFIED, Stamp::default()); REQUESTERS_REMEMBERED],
            next_requester: 0,
            replay: Replay::default(),
            frame: [0; MAX_BUFFERED_FRAME_LEN],
            stats: AuthStats::default(),
        }
    }

    /// What keyed mode counted.
    pub fn stats(&self) -> &AuthStats {
        &self.stats
    }

    /// This run's epoch.
    pub fn epoch(&self) -> u32 {
        self.stamp.epoch
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped device, mutably.
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    /// The next stamp; a new epoch when the counter runs out.
    fn next_stamp(&mut self) -> Stamp {
        if self.stamp.counter == u32::MAX {
            self.stamp = Stamp { epoch: new_epoch(&mut self.rng), counter: 0 };
        }
        self.stamp.counter += 1;
        self.stamp
    }

    /// Checks a protected frame; its length without the trailer.
    fn verify(&mut self, frame: &[u8]) -> Result<usize, Rejection> {
        let (len, repr) = self.signer.check(frame).ok_or(Rejection::Auth)?;
        let header = EthernetFrame::new_unchecked(frame);
        let (src, ethertype) = (header.src_addr(), header.ethertype());
        // `None` for other ethertypes, and for a body too short to be
        // name-ARP (the node counts it malformed).
        let request =
            if ethertype == EtherType::NAME_ARP { name_arp_is_request(&frame[HEADER_LEN..len]) } else { None };
        if request == Some(false) {
            let ours = repr.echo.epoch == self.stamp.epoch
                && repr.echo.counter != 0
                && self.requests.contains(&repr.echo.counter);
            if !ours {
                return Err(Rejection::Stale);
            }
        }
        if !self.replay.accept(src, repr.stamp) {
            return Err(Rejection::Replay);
        }
        if request == Some(true) {
            self.requesters[self.next_requester] = (src, repr.stamp);
            self.next_requester = (self.next_requester + 1) % REQUESTERS_REMEMBERED;
        }
        Ok(len)
    }
}

/// A random epoch, never zero.
fn new_epoch(rng: &mut Rng) -> u32 {
    (rng.next_u64() as u32).max(1)
}

/// Whether a name-ARP body is a request (its `ethAddr` is zero), a reply,
/// or too short to tell.
fn name_arp_is_request(body: &[u8]) -> Option<bool> {
    body.get(4..10).map(|addr| addr.iter().all(|&b| b == 0))
}

impl<D: LinkDevice, const PEERS: usize> LinkDevice for AuthDevice<D, PEERS> {
    type Error = D::Error;

    fn mac_address(&self) -> EthernetAddress {
        self.inner.mac_address()
    }

    /// The inner device's, less the trailer (and no more than the frames
    /// it signs).
    fn capabilities(&self) -> Capabilities {
        let inner = self.inner.capabilities();
        let most = MAX_BUFFERED_FRAME_LEN - HEADER_LEN;
        Capabilities { mtu: inner.mtu.min(most).saturating_sub(TRAILER_LEN) }
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, D::Error> {
        for _ in 0..MAX_DROPPED_PER_CALL {
            let len = self.inner.receive(buffer)?;
            // Cut short or headerless: the node counts it.
            let Some(frame) = buffer.get(..len).filter(|frame| frame.len() >= HEADER_LEN) else { return Ok(len) };
            if !is_protected(EthernetFrame::new_unchecked(frame).ethertype()) {
                self.stats.rx_passed += 1;
                return Ok(len);
            }
            match self.verify(frame) {
                Ok(inner_len) => {
                    self.stats.rx_verified += 1;
                    return Ok(inner_len);
                }
                Err(Rejection::Auth) => self.stats.rx_auth_failures += 1,
                Err(Rejection::Replay) => self.stats.rx_replays += 1,
                Err(Rejection::Stale) => self.stats.rx_stale_replies += 1,
            }
        }
        Err(nb::Error::WouldBlock)
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), D::Error> {
        if frame.len() < HEADER_LEN || !is_protected(EthernetFrame::new_unchecked(frame).ethertype()) {
            return self.inner.transmit(frame);
        }
        let header = EthernetFrame::new_unchecked(frame);
        let (dst, ethertype) = (header.dst_addr(), header.ethertype());
        // Padding goes before the trailer, which ends the frame. A frame
        // too long for a trailer cannot come from a node (the MTU above is
        // smaller): it is cut, and the receiver rejects it.
        let body = frame.len().min(MAX_BUFFERED_FRAME_LEN - TRAILER_LEN);
        let inner_len = body.max(MIN_FRAME_LEN - TRAILER_LEN);
        let total = inner_len + TRAILER_LEN;
        let stamp = self.next_stamp();
        let mut echo = Stamp::default();
        if ethertype == EtherType::NAME_ARP {
            match name_arp_is_request(&frame[HEADER_LEN..]) {
                Some(true) => {
                    self.requests[self.next_request] = stamp.counter;
                    self.next_request = (self.next_request + 1) % REQUESTS_REMEMBERED;
                }
                Some(false) => {
                    if let Some((_, request)) = self.requesters.iter().rev().find(|(mac, _)| *mac == dst) {
                        echo = *request;
                    }
                }
                None => {}
            }
        }
        self.frame[..body].copy_from_slice(&frame[..body]);
        self.frame[body..inner_len].fill(0);
        AuthRepr { stamp, echo }.emit(&mut self.frame[inner_len..total]);
        let tag = self.signer.tag(&self.frame[..inner_len + COVERED_LEN]);
        self.frame[inner_len + AuthRepr::TAG.start..total].copy_from_slice(&tag);
        self.inner.transmit(&self.frame[..total])?;
        self.stats.tx_signed += 1;
        Ok(())
    }

    fn flush(&mut self) -> nb::Result<(), D::Error> {
        self.inner.flush()
    }
}

impl<D: Wait, const PEERS: usize> Wait for AuthDevice<D, PEERS> {
    fn wait(&mut self, timeout: Option<Duration>, writable: bool) -> Result<(), D::Error> {
        self.inner.wait(timeout, writable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps the last frame it was given.
    struct Last(heapless::Vec<u8, MAX_BUFFERED_FRAME_LEN>);

    impl LinkDevice for Last {
        type Error = ();
        fn mac_address(&self) -> EthernetAddress {
            EthernetAddress([2, 0, 0, 0, 0, 1])
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }
        fn receive(&mut self, _: &mut [u8]) -> nb::Result<usize, ()> {
            Err(nb::Error::WouldBlock)
        }
        fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), ()> {
            self.0.clear();
            self.0.extend_from_slice(frame).map_err(|_| nb::Error::Other(()))
        }
    }

    /// The keyed request of docs/PROTOCOL.md, byte for byte: key 00 01 ..
    /// 1f, seed 1 (epoch 0x896cdd1d), the first frame of the epoch. The tag
    /// was checked against Python's `hmac` module.
    #[test]
    fn the_documented_keyed_request_is_exact() {
        let mut key = [0u8; KEY_LEN];
        key.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        let mut device: AuthDevice<Last, 1> = AuthDevice::new(Last(heapless::Vec::new()), &Key(key), 1);
        let mut request = [0u8; 60];
        request[..6].fill(0xff);
        request[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        request[12..14].copy_from_slice(&[0xff, 0xfe]);
        request[14..18].copy_from_slice(&3u32.to_le_bytes());
        request[24..27].copy_from_slice(b"VM2");
        device.transmit(&request).unwrap();
        let sent = &device.inner().0;
        assert_eq!(sent.len(), 92);
        assert_eq!(&sent[..60], &request[..]);
        let trailer: [u8; TRAILER_LEN - TAG_LEN] = [0x89, 0x6c, 0xdd, 0x1d, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(&sent[60..76], &trailer, "{:02x?}", &sent[60..]);
        let tag = [0xdc, 0x5b, 0x6d, 0x8b, 0xb3, 0x72, 0x42, 0x2c, 0x36, 0xac, 0xce, 0x30, 0xf6, 0x39, 0xd8, 0x4a];
        assert_eq!(&sent[76..], &tag, "{:02x?}", &sent[76..]);
    }
}
