//! What a connection has to tell the application, from one source: which
//! event is next ([`Connection::next`]) decides both whether there is one
//! and which one is handed out.

use super::{Connection, End, Phase, Side};
use crate::transfer::{MessageId, TransferEvent};

/// The kind of a connection's next event.
enum Next {
    Incoming,
    Connected,
    Delivery,
    Delivered,
    Writable,
    Finished,
    Undelivered,
    End(End),
}

impl<const W: usize> Connection<W> {
    /// The next event the application has not heard, in the order it hears
    /// them: the offer, the connection, data in order, delivered messages,
    /// room, the end of the data, undelivered messages, the end.
    fn next(&self) -> Option<Next> {
        let (shared, notify) = (&self.shared, &self.shared.notify);
        let sender = match &self.side {
            Side::Sender(sender) if shared.messages => Some(sender),
            _ => None,
        };
        let delivery = match &self.side {
            Side::Receiver(receiver) => receiver.has_delivery(),
            Side::Sender(_) => false,
        };
        Some(if notify.offered {
            Next::Incoming
        } else if notify.connected {
            Next::Connected
        } else if delivery && shared.phase != Phase::Resetting {
            Next::Delivery
        } else if sender.is_some_and(|sender| sender.has_delivered()) {
            Next::Delivered
        } else if notify.writable {
            Next::Writable
        } else if notify.finished && !delivery {
            Next::Finished
        } else {
            let end = notify.end?;
            if sender.is_some_and(|sender| sender.has_unreported()) { Next::Undelivered } else { Next::End(end) }
        })
    }

    /// Whether the application has something to hear.
    pub(in crate::transfer) fn has_event(&self) -> bool {
        self.next().is_some()
    }

    /// The next event, its payload (if any) copied into `scratch`.
    pub(in crate::transfer) fn next_event<'s>(&mut self, scratch: &'s mut [u8]) -> Option<TransferEvent<'s>> {
        let handle = self.shared.handle;
        let isn = self.shared.isn;
        let message = |number: u32| MessageId { conn: handle, number: number.wrapping_sub(isn) };
        Some(match self.next()? {
            Next::Incoming => {
                let shared = &mut self.shared;
                shared.notify.offered = false;
                let header = &mut scratch[..shared.header.len()];
                header.copy_from_slice(&shared.header);
                let (from, mac, messages) = (shared.peer.clone(), shared.peer_mac.unwrap_or_default(), shared.messages);
                TransferEvent::Incoming { conn: handle, from, mac, messages, header }
            }
            Next::Connected => {
                self.shared.notify.connected = false;
                TransferEvent::Connected { conn: handle }
            }
            Next::Delivery => {
                let Connection { shared, side: Side::Receiver(receiver), ring } = self else { return None };
                let (messages, peer) = (shared.messages, shared.peer.clone());
                let slot = receiver.take_delivery(shared, ring)?;
                let data = &mut scratch[..slot.bytes().len()];
                data.copy_from_slice(slot.bytes());
                match messages {
                    true => TransferEvent::Message { id: message(slot.seq()), from: peer, data },
                    false => TransferEvent::Received { conn: handle, data },
                }
            }
            Next::Delivered => {
                let Side::Sender(sender) = &mut self.side else { return None };
                TransferEvent::Delivered { id: message(sender.take_report()) }
            }
            Next::Writable => {
                self.shared.notify.writable = false;
                TransferEvent::Writable { conn: handle }
            }
            Next::Finished => {
                self.shared.notify.finished = false;
                TransferEvent::Finished { conn: handle }
            }
            Next::Undelivered => {
                let Side::Sender(sender) = &mut self.side else { return None };
                TransferEvent::Undelivered { id: message(sender.take_report()) }
            }
            Next::End(end) => {
                self.shared.notify.end = None;
                if let Side::Sender(_) = self.side {
                    self.shared.phase = Phase::Free;
                }
                match end {
                    End::Closed(status) => TransferEvent::Closed { conn: handle, status },
                    End::Failed(failure) => TransferEvent::Failed { conn: handle, failure },
                }
            }
        })
    }
}
