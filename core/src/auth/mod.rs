//! Keyed mode: stations that share a key accept no forged, altered or
//! replayed whohas frame (see `docs/SECURITY.md`).
//!
//! [`AuthDevice`] wraps any [`LinkDevice`]. Every name-ARP, data, transfer
//! and presence frame it sends gets a trailer ([`wire::auth`](crate::wire::auth)):
//! the sender's epoch (random per run) and frame counter, and an
//! HMAC-SHA-256 tag over the whole frame truncated to 16 bytes. A name-ARP
//! reply also echoes the epoch and counter of the request it answers.
//!
//! A received frame of those ethertypes reaches the node only if its tag is
//! right, it is neither this station's own frame sent back nor addressed to
//! another station, its sender is admitted, its stamp is new (a replay
//! window per admitted sender), and, for a name-ARP reply, its echo is one
//! of this station's recent requests; the trailer is removed first.
//!
//! A sender is admitted by a handshake of this run ([`Handshake`], its own
//! ethertype, signed too): its first frame is refused and answered with a
//! challenge, a fresh nonce; the sender's answer echoes it, and its stamp
//! marks where the sender's new frames start. So no frame recorded before
//! this station started, or before it forgot the sender, is ever taken as
//! new. A name-ARP request refused this way is sent again at once when its
//! sender answers, so a first resolution does not wait for a retry.
//!
//! Everything else (standard ARP, IPv4…) passes through unchanged. The node
//! above needs no change: an unauthenticated frame never reaches it, so it
//! never answers or learns from one.

mod peers;

use core::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::device::Wait;
use crate::device::{Capabilities, LinkDevice};
use crate::rng::Rng;
use crate::wire::auth::{AuthRepr, COVERED_LEN, HANDSHAKE_LEN, Handshake, Stamp, TAG_LEN, TRAILER_LEN};
use crate::wire::ethernet::{HEADER_LEN, MAX_BUFFERED_FRAME_LEN, MIN_FRAME_LEN};
use crate::wire::{EtherType, EthernetAddress, EthernetFrame, NAME_MAX};

pub use peers::{Freshness, Peers, WINDOW};

/// Length of a key.
pub const KEY_LEN: usize = 32;
/// Recent name-ARP requests of this station whose answers are accepted.
const REQUESTS_REMEMBERED: usize = 8;
/// Requesters whose latest request a reply echoes.
const REQUESTERS_REMEMBERED: usize = 8;
/// Frames one `receive` drops at most before it returns.
const MAX_DROPPED_PER_CALL: usize = 32;
/// The longest name-ARP request: header, length, address, name.
const REQUEST_MAX_LEN: usize = HEADER_LEN + 4 + 6 + NAME_MAX;

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

/// A station's keys: the first signs, and frames signed with either are
/// accepted. Two keys only while the group rotates its key: the new one is
/// accepted everywhere before anyone signs with it, and the old one is
/// accepted until everyone has stopped (docs/SECURITY.md).
#[derive(Clone)]
pub struct KeyRing {
    signing: Signer,
    also: Option<Signer>,
}

/// Which key of a [`KeyRing`] verified a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhichKey {
    /// The signing key.
    First,
    /// The other key of a rotation.
    Second,
}

impl KeyRing {
    /// Signs with `signing`; accepts `signing` and `also`.
    pub fn new(signing: &Key, also: Option<&Key>) -> KeyRing {
        KeyRing { signing: Signer::new(signing), also: also.map(Signer::new) }
    }

    /// The tag of `covered`, with the signing key.
    pub fn tag(&self, covered: &[u8]) -> [u8; TAG_LEN] {
        self.signing.tag(covered)
    }

    /// Checks the trailer ending `frame` with each key, the signing key
    /// first (see [`Signer::check`]); which key verified it.
    pub fn check(&self, frame: &[u8]) -> Option<(usize, AuthRepr, WhichKey)> {
        if let Some((len, repr)) = self.signing.check(frame) {
            return Some((len, repr, WhichKey::First));
        }
        let (len, repr) = self.also.as_ref()?.check(frame)?;
        Some((len, repr, WhichKey::Second))
    }
}

impl From<&Key> for KeyRing {
    fn from(key: &Key) -> KeyRing {
        KeyRing::new(key, None)
    }
}

/// Whether frames of `ethertype` carry a trailer in keyed mode and reach
/// the node once verified.
pub fn is_protected(ethertype: EtherType) -> bool {
    matches!(ethertype, EtherType::NAME_ARP | EtherType::DATA | EtherType::TRANSFER | EtherType::PRESENCE)
}

/// Whether frames of `ethertype` carry a trailer in keyed mode: the
/// protected ones and the handshake.
pub fn is_signed(ethertype: EtherType) -> bool {
    is_protected(ethertype) || ethertype == EtherType::KEYED
}

/// What keyed mode counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AuthStats {
    /// Frames sent with a trailer (handshakes included).
    pub tx_signed: u64,
    /// Frames whose tag and stamp were good, handed to the node.
    pub rx_verified: u64,
    /// Frames whose tag was good with the second key of a rotation (none
    /// once every station signs with the first).
    pub rx_second_key: u64,
    /// Frames dropped: no trailer, a wrong tag (forged, altered, another
    /// key, or none).
    pub rx_auth_failures: u64,
    /// Frames dropped: a stamp already seen, too old, or from before its
    /// sender's admission.
    pub rx_replays: u64,
    /// name-ARP replies dropped: they echo no recent request of this
    /// station (a replayed or unsolicited answer).
    pub rx_stale_replies: u64,
    /// Frames dropped: their sender, or its epoch, is not admitted in this
    /// run (it was challenged).
    pub rx_unadmitted: u64,
    /// Frames dropped: this station's own, sent back to it.
    pub rx_reflected: u64,
    /// Frames dropped: addressed to another station.
    pub rx_misdirected: u64,
    /// Handshake frames dropped: an answer to no challenge of this run (a
    /// replay), or malformed.
    pub rx_stale_handshakes: u64,
    /// Challenges sent.
    pub tx_challenges: u64,
    /// Challenges answered (this station's answers sent).
    pub tx_answers: u64,
    /// Senders admitted by an answer to this station's challenge.
    pub admissions: u64,
    /// Frames of other ethertypes passed through.
    pub rx_passed: u64,
}

/// Why a frame was dropped.
enum Rejection {
    Auth,
    Replay,
    Stale,
    Unadmitted,
    Reflected,
    Misdirected,
    StaleHandshake,
}

/// What a verified frame was.
enum Verified {
    /// A protected frame for the node, this long without its trailer.
    Frame(usize),
    /// A handshake, taken here.
    Handshake,
}

/// This station's latest name-ARP request, kept to send again when a
/// receiver that refused it (its challenge names it) has admitted us.
struct LastRequest {
    frame: heapless::Vec<u8, REQUEST_MAX_LEN>,
    stamp: Stamp,
    /// It was sent again already (once is enough: a resend is not resent).
    resent: bool,
}

/// A device whose whohas frames are authenticated with a pre-shared key;
/// it admits up to `PEERS` senders at a time.
pub struct AuthDevice<D, const PEERS: usize = 16> {
    inner: D,
    keys: KeyRing,
    rng: Rng,
    stamp: Stamp,
    /// Counters of this station's recent name-ARP requests.
    requests: [u32; REQUESTS_REMEMBERED],
    next_request: usize,
    last_request: LastRequest,
    /// The latest request of recent requesters, for a reply to echo.
    requesters: [(EthernetAddress, Stamp); REQUESTERS_REMEMBERED],
    next_requester: usize,
    peers: Peers<PEERS>,
    frame: [u8; MAX_BUFFERED_FRAME_LEN],
    stats: AuthStats,
}

impl<D: LinkDevice, const PEERS: usize> AuthDevice<D, PEERS> {
    /// Wraps `inner`, with one key or a [`KeyRing`]; `seed` (from a random
    /// source: it picks the epoch and the challenges' nonces) must differ
    /// from run to run.
    pub fn new(inner: D, keys: impl Into<KeyRing>, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let stamp = Stamp { epoch: new_epoch(&mut rng), counter: 0 };
        AuthDevice {
            inner,
            keys: keys.into(),
            rng,
            stamp,
            requests: [0; REQUESTS_REMEMBERED],
            next_request: 0,
            last_request: LastRequest { frame: heapless::Vec::new(), stamp: Stamp::default(), resent: true },
            requesters: [(EthernetAddress::UNSPECIFIED, Stamp::default()); REQUESTERS_REMEMBERED],
            next_requester: 0,
            peers: Peers::default(),
            frame: [0; MAX_BUFFERED_FRAME_LEN],
            stats: AuthStats::default(),
        }
    }

    /// What keyed mode counted.
    pub fn stats(&self) -> &AuthStats {
        &self.stats
    }

    /// Changes keys, as a key rotation goes on; admissions and replay
    /// windows are kept (a sender's frames stay fresh or stale whatever key
    /// signed them).
    pub fn set_keys(&mut self, keys: KeyRing) {
        self.keys = keys;
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

    /// Checks a signed frame.
    fn verify(&mut self, frame: &[u8]) -> Result<Verified, Rejection> {
        let (len, repr, which) = self.keys.check(frame).ok_or(Rejection::Auth)?;
        if which == WhichKey::Second {
            self.stats.rx_second_key += 1;
        }
        let header = EthernetFrame::new_unchecked(frame);
        let (src, dst, ethertype) = (header.src_addr(), header.dst_addr(), header.ethertype());
        let me = self.inner.mac_address();
        if src == me {
            return Err(Rejection::Reflected);
        }
        if dst.is_unicast() && dst != me {
            return Err(Rejection::Misdirected);
        }
        if ethertype == EtherType::KEYED {
            let handshake = Handshake::parse(&frame[HEADER_LEN..len]).map_err(|_| Rejection::StaleHandshake)?;
            return self.take_handshake(src, repr.stamp, handshake).map(|()| Verified::Handshake);
        }
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
        match self.peers.accept(src, repr.stamp) {
            Freshness::New => {}
            Freshness::Seen => return Err(Rejection::Replay),
            Freshness::Unknown => {
                let rng = &mut self.rng;
                if let Some(nonce) = self.peers.challenge(src, || new_nonce(rng)) {
                    let challenge = Handshake::Challenge { nonce, cause: repr.stamp };
                    if self.send_handshake(src, challenge) {
                        self.stats.tx_challenges += 1;
                    }
                }
                return Err(Rejection::Unadmitted);
            }
        }
        if request == Some(true) {
            self.requesters[self.next_requester] = (src, repr.stamp);
            self.next_requester = (self.next_requester + 1) % REQUESTERS_REMEMBERED;
        }
        Ok(Verified::Frame(len))
    }

    /// Answers a challenge (asking back when `src` is not admitted in the
    /// challenge's epoch), or admits `src` on an answer to our challenge
    /// (confirming its own challenge back, if it asked).
    fn take_handshake(&mut self, src: EthernetAddress, stamp: Stamp, handshake: Handshake) -> Result<(), Rejection> {
        match handshake {
            Handshake::Challenge { nonce, cause } => {
                let ask = if self.peers.is_admitted(src, stamp.epoch) {
                    None
                } else {
                    let rng = &mut self.rng;
                    self.peers.ask(src, || new_nonce(rng))
                };
                if self.send_handshake(src, Handshake::Answer { echo: nonce, ask }) {
                    self.stats.tx_answers += 1;
                }
                self.resend_request(cause);
                Ok(())
            }
            Handshake::Answer { echo, ask } => {
                if !self.peers.answered(src, echo, stamp) {
                    return Err(Rejection::StaleHandshake);
                }
                self.stats.admissions += 1;
                if let Some(nonce) = ask {
                    if self.send_handshake(src, Handshake::Answer { echo: nonce, ask: None }) {
                        self.stats.tx_answers += 1;
                    }
                }
                Ok(())
            }
        }
    }

    /// Sends a handshake to `dst`; `false` if the device had no room (the
    /// next refused frame or the peer's repeat makes up for it).
    fn send_handshake(&mut self, dst: EthernetAddress, handshake: Handshake) -> bool {
        let mut frame = [0u8; HEADER_LEN + HANDSHAKE_LEN];
        frame[..6].copy_from_slice(&dst.0);
        frame[6..12].copy_from_slice(&self.inner.mac_address().0);
        frame[12..14].copy_from_slice(&EtherType::KEYED.0.to_be_bytes());
        handshake.emit(&mut frame[HEADER_LEN..]);
        self.sign_and_send(&frame).is_ok()
    }

    /// Sends our latest name-ARP request again, with a new stamp, if a
    /// challenge names it as its cause: the challenger has admitted us by
    /// now and answers it. A request is only a question, so asking it again
    /// is harmless whenever it happens.
    fn resend_request(&mut self, cause: Stamp) {
        let last = &self.last_request;
        if last.resent || cause != last.stamp {
            return;
        }
        let mut copy = [0u8; REQUEST_MAX_LEN];
        let len = last.frame.len();
        copy[..len].copy_from_slice(&last.frame);
        if self.sign_and_send(&copy[..len]).is_ok() {
            self.last_request.resent = true;
        }
    }

    /// Appends a trailer to `frame` (a signed ethertype's) and sends it.
    fn sign_and_send(&mut self, frame: &[u8]) -> nb::Result<(), D::Error> {
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
                    let kept = heapless::Vec::from_slice(&frame[..frame.len().min(REQUEST_MAX_LEN)]);
                    self.last_request = LastRequest { frame: kept.unwrap_or_default(), stamp, resent: false };
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
        let tag = self.keys.tag(&self.frame[..inner_len + COVERED_LEN]);
        self.frame[inner_len + AuthRepr::TAG.start..total].copy_from_slice(&tag);
        self.inner.transmit(&self.frame[..total])?;
        self.stats.tx_signed += 1;
        Ok(())
    }
}

/// A random epoch, never zero.
fn new_epoch(rng: &mut Rng) -> u32 {
    (rng.next_u64() as u32).max(1)
}

/// A random challenge nonce, never zero.
fn new_nonce(rng: &mut Rng) -> u64 {
    rng.next_u64().max(1)
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
            if !is_signed(EthernetFrame::new_unchecked(frame).ethertype()) {
                self.stats.rx_passed += 1;
                return Ok(len);
            }
            match self.verify(frame) {
                Ok(Verified::Frame(inner_len)) => {
                    self.stats.rx_verified += 1;
                    return Ok(inner_len);
                }
                Ok(Verified::Handshake) => {}
                Err(Rejection::Auth) => self.stats.rx_auth_failures += 1,
                Err(Rejection::Replay) => self.stats.rx_replays += 1,
                Err(Rejection::Stale) => self.stats.rx_stale_replies += 1,
                Err(Rejection::Unadmitted) => self.stats.rx_unadmitted += 1,
                Err(Rejection::Reflected) => self.stats.rx_reflected += 1,
                Err(Rejection::Misdirected) => self.stats.rx_misdirected += 1,
                Err(Rejection::StaleHandshake) => self.stats.rx_stale_handshakes += 1,
            }
        }
        Err(nb::Error::WouldBlock)
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), D::Error> {
        if frame.len() < HEADER_LEN || !is_protected(EthernetFrame::new_unchecked(frame).ethertype()) {
            return self.inner.transmit(frame);
        }
        self.sign_and_send(frame)
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

    /// A station's link: a frame to receive, and the last frame sent.
    struct Pipe {
        mac: EthernetAddress,
        inbound: Option<heapless::Vec<u8, MAX_BUFFERED_FRAME_LEN>>,
        sent: heapless::Vec<u8, MAX_BUFFERED_FRAME_LEN>,
    }

    impl Pipe {
        fn new(last_byte: u8) -> Pipe {
            Pipe { mac: EthernetAddress([2, 0, 0, 0, 0, last_byte]), inbound: None, sent: heapless::Vec::new() }
        }
    }

    impl LinkDevice for Pipe {
        type Error = ();
        fn mac_address(&self) -> EthernetAddress {
            self.mac
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }
        fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, ()> {
            let frame = self.inbound.take().ok_or(nb::Error::WouldBlock)?;
            buffer[..frame.len()].copy_from_slice(&frame);
            Ok(frame.len())
        }
        fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), ()> {
            self.sent.clear();
            self.sent.extend_from_slice(frame).map_err(|_| nb::Error::Other(()))
        }
    }

    /// The key of the documented examples: 00 01 .. 1f.
    fn documented_key() -> Key {
        let mut key = [0u8; KEY_LEN];
        key.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        Key(key)
    }

    /// VM1's request for "VM2" of the documented examples, before its trailer.
    fn documented_request() -> [u8; 60] {
        let mut request = [0u8; 60];
        request[..6].fill(0xff);
        request[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        request[12..14].copy_from_slice(&[0xff, 0xfe]);
        request[14..18].copy_from_slice(&3u32.to_le_bytes());
        request[24..27].copy_from_slice(b"VM2");
        request
    }

    /// The keyed request of docs/PROTOCOL.md, byte for byte: key 00 01 ..
    /// 1f, seed 1 (epoch 0x896cdd1d), the first frame of the epoch. The tag
    /// was checked against Python's `hmac` module.
    #[test]
    fn the_documented_keyed_request_is_exact() {
        let mut device: AuthDevice<Pipe, 1> = AuthDevice::new(Pipe::new(1), &documented_key(), 1);
        let request = documented_request();
        device.transmit(&request).unwrap();
        let sent = &device.inner().sent;
        assert_eq!(sent.len(), 92);
        assert_eq!(&sent[..60], &request[..]);
        let trailer: [u8; TRAILER_LEN - TAG_LEN] = [0x89, 0x6c, 0xdd, 0x1d, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(&sent[60..76], &trailer, "{:02x?}", &sent[60..]);
        let tag = [0xdc, 0x5b, 0x6d, 0x8b, 0xb3, 0x72, 0x42, 0x2c, 0x36, 0xac, 0xce, 0x30, 0xf6, 0x39, 0xd8, 0x4a];
        assert_eq!(&sent[76..], &tag, "{:02x?}", &sent[76..]);
    }

    /// The challenge of docs/PROTOCOL.md, byte for byte: VM2 (seed 2) has
    /// not admitted VM1 and refuses the documented request with it. The
    /// tag was checked against Python's `hmac` module.
    #[test]
    fn the_documented_challenge_is_exact() {
        let mut vm1: AuthDevice<Pipe, 1> = AuthDevice::new(Pipe::new(1), &documented_key(), 1);
        let request = documented_request();
        vm1.transmit(&request).unwrap();
        let mut vm2: AuthDevice<Pipe, 1> = AuthDevice::new(Pipe::new(2), &documented_key(), 2);
        vm2.inner_mut().inbound = Some(vm1.inner().sent.clone());
        let mut buffer = [0u8; MAX_BUFFERED_FRAME_LEN];
        assert_eq!(vm2.receive(&mut buffer), Err(nb::Error::WouldBlock), "refused");
        let sent = &vm2.inner().sent;
        let challenge =
            Handshake::Challenge { nonce: 0x579f_4d51_c0f2_ca3a, cause: Stamp { epoch: 0x896c_dd1d, counter: 1 } };
        let mut expected = [0u8; HEADER_LEN + HANDSHAKE_LEN + TRAILER_LEN];
        expected[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        expected[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        expected[12..14].copy_from_slice(&[0xff, 0xfc]);
        challenge.emit(&mut expected[HEADER_LEN..]);
        // VM2's epoch 12d9ba3a, its first frame; no echo.
        expected[42..50].copy_from_slice(&[0x12, 0xd9, 0xba, 0x3a, 0, 0, 0, 1]);
        let tag = [0xba, 0x54, 0x9d, 0x5f, 0x19, 0x4b, 0x47, 0x66, 0x52, 0x38, 0xf3, 0x3d, 0xf7, 0xf7, 0xf7, 0xff];
        expected[58..].copy_from_slice(&tag);
        assert_eq!(&sent[..], &expected[..], "{:02x?}", &sent[..]);
    }
}
