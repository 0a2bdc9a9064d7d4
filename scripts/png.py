#!/usr/bin/env python3
"""Reads and writes 8-bit RGB/RGBA PNGs with the standard library only (zlib), for checking
headless-browser screenshots without Pillow.

    png.py check FILE WIDTH MIN_BYTES   exit 1 unless FILE is a PNG of WIDTH pixels, at least
                                        MIN_BYTES long, and not blank (more than a few colours)
    png.py shrink IN OUT FACTOR [TOP BOTTOM]  rows TOP..BOTTOM of IN, every FACTOR-th pixel
                                        averaged over FACTOR×FACTOR blocks, written to OUT
"""
import struct
import sys
import zlib


def read(path):
    """(width, height, channels, rows): rows are bytes objects of width·channels values."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, compressed, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, chunk = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            compressed += chunk
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"{path}: only 8-bit non-interlaced RGB/RGBA is read (depth {depth}, colour type {colour})")
    channels = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(compressed), width * channels, [], bytes(width * channels)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):  # undo the row's filter (PNG spec, section 9)
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def write(path, width, channels, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2 if channels == 3 else 6, 0, 0, 0)
    body = zlib.compress(b"".join(b"\x00" + row for row in rows), 9)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def check(path, width, min_bytes):
    size = len(open(path, "rb").read())
    got_width, height, channels, rows = read(path)
    colours = {row[i:i + 3] for row in rows[::7] for i in range(0, len(row), 7 * channels)}
    print(f"{path}: {got_width}×{height}, {size} bytes, {len(colours)} colours sampled")
    problems = [f"width {got_width}, expected {width}"] if got_width != width else []
    problems += [f"{size} bytes, expected at least {min_bytes}"] if size < min_bytes else []
    problems += [f"only {len(colours)} colours: a blank page?"] if len(colours) < 16 else []
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    return not problems


def shrink(source, target, factor, top=0, bottom=None):
    width, height, channels, rows = read(source)
    rows = rows[top:bottom if bottom else height]
    out = []
    for y in range(0, len(rows) - factor + 1, factor):
        block, line = rows[y:y + factor], bytearray()
        for x in range(0, width - factor + 1, factor):
            for c in range(3):
                line.append(sum(row[(x + dx) * channels + c] for row in block for dx in range(factor)) // (factor * factor))
        out.append(bytes(line))
    write(target, width // factor, 3, out)


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "check":
        sys.exit(0 if check(arguments[0], int(arguments[1]), int(arguments[2])) else 1)
    elif command == "shrink":
        shrink(arguments[0], arguments[1], int(arguments[2]), *map(int, arguments[3:5]))
    else:
        sys.exit(__doc__)
