#!/usr/bin/env python3
"""Writes fuzz/corpus/<target>/ seed files from the capture files given:
each frame alone for the codec targets, and length-prefixed runs of frames
for the node and decode targets."""
import os, struct, sys

def frames(path):
    data = open(path, 'rb').read()
    magic = struct.unpack('<I', data[:4])[0]
    endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    offset = 24
    while offset + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + 'IIII', data[offset:offset + 16])
        yield data[offset + 16:offset + 16 + caplen]
        offset += 16 + caplen

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
def write(target, name, blob):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    open(os.path.join(root, target, name), 'wb').write(blob)

for path in sys.argv[1:]:
    base = os.path.basename(path)
    run = b''
    for i, frame in enumerate(frames(path)):
        write('ethernet', f'{base}-{i}', frame)
        if frame[12:14] == b'\xff\xfe':
            write('name_arp', f'{base}-{i}', frame[14:])
        if frame[12:14] == b'\x08\x06':
            write('arp', f'{base}-{i}', frame[14:])
        if frame[12:14] == b'\x88\xb5':
            write('transfer', f'{base}-{i}', frame[:12] + frame[14:])
        run += bytes([min(len(frame), 255)]) + frame[:255]
    write('node', base, run)
    write('decode', base, run)

# The DATA frame of docs/PROTOCOL.md's transfer example: the captures above
# hold no transfer frames, and a valid checksum is hard to find by chance.
data = bytes.fromhex('020000000002 020000000001 88b5 01030100 1a2b3c4d 00000100 00000000 0000'
                     '000f4498 000f436c 0006 68656c6c6f0a dd92454b'.replace(' ', ''))
write('transfer', 'protocol-md-data', data[:12] + data[14:])
