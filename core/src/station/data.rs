//! Data frames (ethertype 0xFFFD): delivering them, sending them by name or
//! address, and the queue of frames waiting for a name or for the device.

use super::{Delivery, Event, Identity, ResolveError, SendError, State};
use crate::device::{LinkDevice, TransmitError};
use crate::queue::{Destination, Keep};
use crate::time::Instant;
use crate::wire::ethernet::MAX_PAYLOAD_LEN;
use crate::wire::{self, EtherType, EthernetAddress, EthernetRepr, Name};

impl State<'_> {
    #[inline]
    pub(super) fn process_data<'f, E>(
        &mut self,
        now: Instant,
        header: &EthernetRepr,
        frame_len: usize,
        body: &'f [u8],
    ) -> Option<Event<'f, E>> {
        let payload = wire::data::message(frame_len, body);
        self.id.stats.data.rx += 1;
        let from_name = self.cache.reverse_lookup(header.src_addr, now).cloned();
        Some(Event::Data { from: header.src_addr, from_name, payload })
    }

    fn check_payload<D: LinkDevice>(device: &D, payload: &[u8]) -> Result<(), SendError<D::Error>> {
        let max = device.capabilities().mtu.min(MAX_PAYLOAD_LEN);
        if payload.len() > max {
            return Err(SendError::PayloadTooLong { len: payload.len(), max });
        }
        Ok(())
    }

    pub(super) fn send<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        to: &Name,
        payload: &[u8],
    ) -> Result<Delivery, SendError<D::Error>> {
        Self::check_payload(device, payload)?;
        let destination = Destination::Name(to.as_bytes());
        match self.cache.lookup(to, now) {
            Some(mac) => self.send_in_order(device, destination, mac, payload),
            None => {
                self.start_resolution(device, now, to)?;
                self.queue.push(destination, payload).map_err(|_| SendError::QueueFull)?;
                Ok(Delivery::Queued)
            }
        }
    }

    pub(super) fn send_to_address<D: LinkDevice>(
        &mut self,
        device: &mut D,
        to: EthernetAddress,
        payload: &[u8],
    ) -> Result<Delivery, SendError<D::Error>> {
        Self::check_payload(device, payload)?;
        self.send_in_order(device, Destination::Address(to), to, payload)
    }

    /// Sends to a known `mac` now, unless earlier frames for the same
    /// destination still wait (then, or if the device has no room, the frame
    /// joins the queue behind them).
    fn send_in_order<D: LinkDevice>(
        &mut self,
        device: &mut D,
        destination: Destination<'_>,
        mac: EthernetAddress,
        payload: &[u8],
    ) -> Result<Delivery, SendError<D::Error>> {
        if !self.queue.contains(destination) {
            match self.id.transmit_data(device, mac, payload) {
                Ok(()) => return Ok(Delivery::Sent),
                Err(nb::Error::WouldBlock) => {}
                Err(nb::Error::Other(TransmitError::Device(err))) => return Err(SendError::Device(err)),
                Err(nb::Error::Other(TransmitError::PayloadTooLong { len, max })) => {
                    return Err(SendError::PayloadTooLong { len, max });
                }
            }
        }
        self.queue.push(destination, payload).map_err(|_| SendError::QueueFull)?;
        Ok(Delivery::Queued)
    }

    /// Sends queued frames whose destination is known, in order, until the
    /// device has no room. Returns whether frames that could go are left.
    pub(crate) fn flush_queue<D: LinkDevice>(&mut self, device: &mut D, now: Instant) -> Result<bool, D::Error> {
        if self.queue.is_empty() {
            return Ok(false);
        }
        let State { id, cache, queue, .. } = self;
        let mut blocked = false;
        let mut failure = None;
        queue.retain(|destination, payload| {
            let mac = match destination {
                Destination::Address(mac) => Some(mac),
                Destination::Name(name) => cache.lookup(name, now),
            };
            let Some(mac) = mac.filter(|_| !blocked && failure.is_none()) else { return Keep::Yes };
            match id.transmit_data(device, mac, payload) {
                Ok(()) => Keep::No,
                Err(nb::Error::WouldBlock) => {
                    blocked = true;
                    Keep::Yes
                }
                Err(nb::Error::Other(TransmitError::Device(err))) => {
                    failure = Some(err);
                    Keep::Yes
                }
                // Payloads were checked against the MTU when queued.
                Err(nb::Error::Other(TransmitError::PayloadTooLong { .. })) => Keep::No,
            }
        });
        match failure {
            Some(err) => Err(err),
            None => Ok(blocked),
        }
    }

    /// Removes the frames queued for `name`, counting them as dropped.
    pub(super) fn drop_queued_for(&mut self, name: &Name) -> usize {
        let dropped = self.queue.remove_all(Destination::Name(name.as_bytes()));
        self.id.stats.data.queue_drops += dropped as u64;
        dropped
    }

    /// A queued frame whose name is neither cached nor being resolved (its
    /// entry expired or was evicted while it waited) gets a fresh
    /// resolution; if none can start, its frames are dropped and reported.
    pub(super) fn restart_orphan<D: LinkDevice, E>(
        &mut self,
        device: &mut D,
        now: Instant,
    ) -> Result<Option<Event<'static, E>>, D::Error> {
        loop {
            let orphan = self.queue.iter().find_map(|(destination, _)| match destination {
                Destination::Name(name)
                    if self.cache.lookup(name, now).is_none() && !self.resolver.is_waiting(name) =>
                {
                    Name::new(name).ok()
                }
                _ => None,
            });
            let Some(name) = orphan else { return Ok(None) };
            match self.start_resolution(device, now, &name) {
                Ok(()) => {}
                Err(ResolveError::Device(err)) => return Err(err),
                Err(_) => {
                    let dropped_frames = self.drop_queued_for(&name);
                    return Ok(Some(Event::ResolutionFailed { name, dropped_frames }));
                }
            }
        }
    }
}

impl Identity {
    fn transmit_data<D: LinkDevice>(
        &mut self,
        device: &mut D,
        to: EthernetAddress,
        payload: &[u8],
    ) -> nb::Result<(), TransmitError<D::Error>> {
        self.transmit(device, to, EtherType::DATA, payload.len(), |buffer| buffer.copy_from_slice(payload))?;
        self.stats.data.tx += 1;
        Ok(())
    }
}
