#!/usr/bin/env python3
"""What a screenshot of a kam HTML report shows, for the screenshot test: reads an 8-bit
RGB or RGBA PNG (Python's own zlib, no imaging library) and prints one JSON object:
the size, the share of pixels that are not background, the share of dark (text) pixels in
the header band, whether the header's rule is there, and how many pixels have each health
colour's background.

usage: png_regions.py FILE.png"""
import json, struct, sys, zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                sys.exit(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        f, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        previous = line
    return width, height, channels, rows


def main():
    width, height, channels, rows = read_png(sys.argv[1])
    def pixel(y, x):
        r = rows[y]
        return r[x * channels], r[x * channels + 1], r[x * channels + 2]
    backgrounds = {"green": (0xE3, 0xF4, 0xEA), "yellow": (0xFD, 0xF3, 0xD6), "red": (0xFB, 0xE4, 0xE4)}
    near = lambda p, q: all(abs(a - b) <= 6 for a, b in zip(p, q))
    ink = 0
    health = {k: 0 for k in backgrounds}
    header_dark, header_band = 0, min(height, 110)
    rule_rows = 0
    for y in range(0, height, 2):
        dark_in_row = 0
        for x in range(0, width, 2):
            p = pixel(y, x)
            if sum(p) < 720: ink += 1
            if sum(p) < 200:
                dark_in_row += 1
                if y < header_band: header_dark += 1
            for k, q in backgrounds.items():
                if near(p, q): health[k] += 1
        # The header's rule: a dark line across most of the page's column.
        if y < 160 and dark_in_row > width // 2 * 0.5: rule_rows += 1
    sampled = (height // 2) * (width // 2)
    print(json.dumps({"width": width, "height": height, "ink": ink / max(1, sampled),
                      "header_dark": header_dark / max(1, (header_band // 2) * (width // 2)),
                      "header_rule": rule_rows > 0, "health": health}))


if __name__ == "__main__":
    main()
