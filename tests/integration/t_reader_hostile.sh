#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap-read against hostile files made from real flowcap output: cut at
# many offsets, one bit flipped at every byte, wrong version (and a damaged
# one, which is damage, not a newer version), zero length,
# absurd length and count fields (with and without their checksums fixed
# up, so the check behind the checksum is reached too), trailing bytes,
# unknown blocks, a directory, a FIFO, /dev/zero. What doc/file-format.md
# ("Damaged files") and doc/flowcap-read.md ("Errors and exit status")
# promise, checked exactly:
#  - exit status 1 and the line "flowcap-read: FILE: <problem> at offset N",
#    N the offset of the structure the problem was found in (never past it);
#  - only records of blocks that were verified are printed: the CSV rows are
#    a prefix of the intact file's rows, and a cut file prints every record
#    of the RECORDS blocks that end before the cut, then the truncation line
#    and the "cut short" warning;
#  - bounded time (each run under `timeout 10`) and memory (each run under
#    a 200 MB address-space limit, except in sanitizer builds whose shadow
#    memory needs terabytes of address space).
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "python3 needed"; exit 1; }
SRC="$FC_SHARED/pcaps/real/lan-smb2-mixed.pcap"
out="$TMP/ft"
mkdir -p "$out"
# Several intervals per file (--rotate), so a file has many blocks.
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$SRC" --interval 10 --rotate 6 --out "$out" \
	--name hostile >"$TMP/flowcap.log" 2>&1 ||
	{ bad "flowcap --read $SRC"; tail -5 "$TMP/flowcap.log"; finish; exit 1; }

# Memory bound: none under ASan/TSan (they reserve the shadow up front).
MEMLIMIT_KB=204800
if nm -D "$FCREAD" 2>/dev/null | grep -q -E '__(asan|tsan|msan)_init' ||
	ldd "$FCREAD" 2>/dev/null | grep -q -E 'lib(a|t|m)san'; then
	MEMLIMIT_KB=0
	echo "note: sanitizer build, no address-space limit"
fi

cat >"$TMP/hostile.py" <<'EOF'
import os, re, resource, shutil, stat, struct, subprocess, sys, time

FCREAD, TMP, MEMLIMIT_KB = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sys.argv[4:]

def table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t
T = table()

def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = T[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF

def u32(d, o): return struct.unpack_from('<I', d, o)[0]
def u16(d, o): return struct.unpack_from('<H', d, o)[0]

# Version 2 files (what flowcap writes) put every structure behind an
# 8-byte zstd skippable frame header (doc/file-format.md, "zstd framing").
# Offsets below are those of structures (where errors point); the fields
# of a structure are P bytes further.
SKIP = 0x184D2A56
P = 8

def frame(content_len):
    return struct.pack('<II', SKIP, content_len)

def blocks(d):
    """[(offset, type, payload length)] of a well-formed file; the header
    structure's end."""
    hl = u32(d, P + 8)
    out, o = [], P + hl
    while o + P + 12 <= len(d):
        t, ln = u16(d, o + P), u32(d, o + P + 4)
        out.append((o, t, ln))
        o += P + 12 + ln
    return P + hl, out

def fix(d):
    """Recompute every checksum (header, blocks, END's file CRC)."""
    d = bytearray(d)
    hl = u32(d, P + 8)
    struct.pack_into('<I', d, P + hl - 4, crc32c(d[P:P + hl - 4]))
    o = P + hl
    while o + P + 12 <= len(d):
        b = o + P
        t, ln = u16(d, b), u32(d, b + 4)
        if ln > len(d) - b - 12:
            break
        if t == 3 and ln == 20:
            struct.pack_into('<I', d, b + 12 + 16, crc32c(d[:o]))
        struct.pack_into('<I', d, b + 8,
                         crc32c(d[b + 12:b + 12 + ln], crc32c(d[b:b + 8])))
        o = b + 12 + ln
    return bytes(d)

# The address-space limit is set by prlimit(1), which then execs the
# reader: a preexec_fn would make Python fork itself for each of the
# ~3,700 runs instead of spawning, 4 ms more per run (a quarter of this
# test's time). preexec_fn only where prlimit is missing.
def limits():
    b = MEMLIMIT_KB * 1024
    resource.setrlimit(resource.RLIMIT_AS, (b, b))
PRLIMIT, PREEXEC = [], None
if MEMLIMIT_KB and shutil.which('prlimit'):
    PRLIMIT = ['prlimit', '--as=%d' % (MEMLIMIT_KB * 1024), '--']
elif MEMLIMIT_KB:
    PREEXEC = limits

n_ok = n_bad = 0
def ok(m):
    global n_ok
    n_ok += 1
    print('ok   ' + m)
def bad(m, detail=''):
    global n_bad
    n_bad += 1
    print('FAIL ' + m)
    if detail:
        print('     ' + detail.replace('\n', '\n     ')[:1500])
def xfail(m, detail=''):
    print('XFAIL ' + m + ' (known, see doc/reliability.md)')
    if detail:
        print('     ' + detail[:300])

def run(args, timeout=10):
    t0 = time.monotonic()
    try:
        p = subprocess.run(PRLIMIT + [FCREAD] + args,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, preexec_fn=PREEXEC)
    except subprocess.TimeoutExpired:
        return None, b'', b'', timeout
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0

def rows(out):
    lines = out.decode(errors='replace').splitlines()
    return lines[1:] if lines else []

def write(name, data):
    p = os.path.join(TMP, name)
    with open(p, 'wb') as f:
        f.write(data)
    return p

LINE = re.compile(r'^flowcap-read: (.*): (.*) at offset (\d+)$')
SAN = re.compile(r'(AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer|runtime error:)')

def damaged(name, path, full, problem, off_max=None, off_eq=None,
            max_rows=None, exact_rows=None, truncated=False, known=False):
    """One damaged input: exit 1, the message, a prefix of the rows."""
    rc, out, err, dt = run(['--format', 'csv', path])
    fail = xfail if known else bad
    e = err.decode(errors='replace')
    if rc is None:
        return fail(name + ': no answer within 10 s (hangs)')
    if SAN.search(e):
        return bad(name + ': sanitizer report', e)
    if rc != 1:
        return fail(name + ': exit %s, want 1' % rc, e)
    first = e.splitlines()[0] if e else ''
    m = LINE.match(first)
    if not m or m.group(1) != path or not re.match(problem, m.group(2)):
        return fail(name + ': message', 'want "flowcap-read: %s: %s at offset N", got: %s'
                    % (path, problem, e))
    off = int(m.group(3))
    if off_eq is not None and off != off_eq:
        return bad(name + ': offset %d, want %d' % (off, off_eq), e)
    if off_max is not None and off > off_max:
        return bad(name + ': offset %d is past the damage at %d' % (off, off_max), e)
    r = rows(out)
    if r != full[:len(r)]:
        return bad(name + ': printed rows that are not the intact file\'s', '\n'.join(r[:5]))
    if exact_rows is not None and len(r) != exact_rows:
        return bad(name + ': %d rows printed, want %d (records of the complete blocks)'
                   % (len(r), exact_rows))
    if max_rows is not None and len(r) > max_rows:
        return bad(name + ': %d rows printed, at most %d were verified' % (len(r), max_rows))
    if truncated and ('warning: %s was cut short' % path) not in e:
        return bad(name + ': no "cut short" warning', e)
    return True

# ---- the intact files ---------------------------------------------------
data, full = {}, {}
for f in files:
    rc, out, err, _ = run(['--format', 'csv', f])
    if rc != 0:
        bad('intact %s: exit %s' % (f, rc), err.decode())
        continue
    data[f], full[f] = open(f, 'rb').read(), rows(out)
if not data:
    print('%d passed, %d failed' % (n_ok, n_bad)); sys.exit(1)
# The file with the most blocks carries the systematic cases.
F = max(data, key=lambda f: len(blocks(data[f])[1]))
D, R = data[F], full[F]
HL, B = blocks(D)
recs = [(o, t, ln, u32(D, o + P + 12) if t == 2 else 0) for o, t, ln in B]
print('note: %s: %d bytes, header %d, %d blocks, %d rows'
      % (os.path.basename(F), len(D), HL, len(B), len(R)))

def rows_before(cut):
    """Records of the RECORDS blocks that end at or before `cut`."""
    return sum(n for o, t, ln, n in recs if t == 2 and o + P + 12 + ln <= cut)

def struct_at(cut):
    """Offset of the structure a cut at `cut` leaves incomplete."""
    if cut < HL:
        return 0
    for o, t, ln, n in recs:
        if o + P + 12 + ln > cut:
            return o
    return len(D)

# ---- truncation at every offset -----------------------------------------
step = max(1, len(D) // 700)
fails0 = n_bad
cuts = list(range(0, len(D), step)) + [o for o, _, _, _ in recs] + \
       [o + 5 for o, _, _, _ in recs] + [o + P + 5 for o, _, _, _ in recs] + \
       [len(D) - 1]
for cut in sorted(set(cuts)):
    p = write('cut.ft.zst', D[:cut])
    r = damaged('cut at %d' % cut, p, R, 'file is truncated',
                off_eq=struct_at(cut), exact_rows=rows_before(cut),
                truncated=True)
if n_bad == fails0:
    ok('truncated at %d offsets (every %d bytes and around every block): '
       'exit 1, offset of the incomplete structure, records of the complete '
       'blocks, warning' % (len(set(cuts)), step))

# A writer killed before its END block: every record is there, still exit 1.
end_off = [o for o, t, _, _ in recs if t == 3][0]
p = write('noend.ft.zst', D[:end_off])
if damaged('no END block (writer killed)', p, R, 'file is truncated',
           off_eq=end_off, exact_rows=len(R), truncated=True) is True:
    ok('no END block: all %d rows, warning, exit 1' % len(R))

# ---- one bit flipped at every byte; every bit of the header -------------
fails0 = n_bad
flips = [(i, i % 8) for i in range(len(D))] + \
        [(i, b) for i in range(min(len(D), HL + 24)) for b in range(8)]
for i, bit in sorted(set(flips)):
    d = bytearray(D)
    d[i] ^= 1 << bit
    p = write('flip.ft.zst', bytes(d))
    damaged('bit %d of byte %d flipped' % (bit, i), p, R,
            '(checksum mismatch|impossible length|file is truncated|not a flowcap|file needs a newer reader)',
            off_max=i, max_rows=rows_before(i))
if n_bad == fails0:
    ok('%d single-bit flips: all detected, exit 1, offset at or before the '
       'flip, no unverified row printed' % len(set(flips)))

# ---- header fields ------------------------------------------------------
def patched(fmt, off, val, do_fix):
    """The file with a header field (offset within the header) set; a
    header_len is given to the frame size too, so that the check behind
    the frame is reached."""
    d = bytearray(D)
    struct.pack_into(fmt, d, P + off, val)
    if off == 8:
        struct.pack_into('<I', d, 4, val)
    return fix(bytes(d)) if do_fix else bytes(d)

NEWER = r'file needs a newer reader \(format version %d\.[0-9]+; this reader reads versions 1\.x to 2\.x\)'
cases = [
    # The header checksum is verified before any field but magic and
    # header_len is used, the version included: a damaged version field
    # is damage, not a newer version.
    ('version_major 3, checksum not fixed: checksum first', '<H', 4, 3, False,
     'checksum mismatch', 0),
    ('version_major 0x8002, checksum not fixed: checksum first', '<H', 4,
     0x8002, False, 'checksum mismatch', 0),
    ('kind 2, checksum not fixed: checksum first', '<H', 12, 2, False,
     'checksum mismatch', 0),
    ('header_len 40, checksum not fixed: checksum first', '<I', 8, 40, False,
     'checksum mismatch', 0),
    ('version_major 3', '<H', 4, 3, True, NEWER % 3, P + 4),
    ('version_major 0xffff', '<H', 4, 0xffff, True, NEWER % 0xffff, P + 4),
    ('version_major 1 in the version 2 layout', '<H', 4, 1, True,
     'impossible length', P + 4),
    ('kind 2', '<H', 12, 2, True,
     r'file needs a newer reader \(format version 2\.[0-9]+ with a record kind', P + 12),
    ('magic', '<I', 0, 0x54464346 ^ 1, False, 'not a flowcap', P),
    ('header_len 0xffffffff', '<I', 8, 0xffffffff, False, 'impossible length', P + 8),
    ('header_len 36', '<I', 8, 36, False, 'impossible length', P + 8),
    ('header_len 65537', '<I', 8, 65537, False, 'impossible length', P + 8),
    ('header_len past the end of the file', '<I', 8, len(D) + 1, False,
     'file is truncated', 0),
    ('n_fields 0', '<H', 14, 0, True, 'impossible length', P + 14),
    ('n_fields 65535', '<H', 14, 65535, True, 'impossible length', P + 14),
]
for name, fmt, off, val, do_fix, problem, want_off in cases:
    p = write('hdr.ft.zst', patched(fmt, off, val, do_fix))
    if name == 'magic':  # the frame's magic is the file's first bytes
        p = write('hdr.ft.zst', D[:P] + b'GCFT' + D[P + 4:])
    if damaged(name, p, R, problem, off_eq=want_off, max_rows=0) is True:
        ok('header: %s -> %s at offset %d' % (name, problem, want_off))

# The skippable frame magic itself damaged: not a flowcap file.
p = write('hdr.ft.zst', b'\x57' + D[1:])
if damaged('frame magic', p, R, 'not a flowcap', off_eq=0, max_rows=0) is True:
    ok('header: skippable frame magic damaged -> not a flowcap file')
# The header's frame size disagrees with header_len.
d = bytearray(D); struct.pack_into('<I', d, 4, u32(D, 4) + 1)
p = write('hdr.ft.zst', bytes(d))
if damaged('header frame size', p, R, 'impossible length', off_eq=4,
           max_rows=0) is True:
    ok('header: frame size != header_len -> impossible length at offset 4')

p = write('minor.ft.zst', patched('<H', 6, 7, True))
rc, out, err, _ = run(['--format', 'csv', p])
if rc == 0 and rows(out) == R:
    ok('header: version_minor 7 is read (minor versions only add)')
else:
    bad('header: version_minor 7: exit %s' % rc, err.decode())

# ---- block fields -------------------------------------------------------
iv = [o for o, t, _, _ in recs if t == 1][0]
rb = [o for o, t, _, _ in recs if t == 2][0]
eb = end_off
bcases = [
    ('INTERVAL length 0xffffffff', iv + P + 4, 0xffffffff, False, 'impossible length', iv),
    ('RECORDS length 0xffffffff', rb + P + 4, 0xffffffff, False, 'impossible length', rb),
    ('RECORDS length 0x7fffffff', rb + P + 4, 0x7fffffff, False, 'impossible length', rb),
    ('RECORDS length 16 MiB (within the bound, past the end)', rb + P + 4, 16 << 20,
     False, 'file is truncated', rb),
    ('END length 0xffffffff', eb + P + 4, 0xffffffff, False, 'impossible length', eb),
    ('RECORDS n 0xffffffff', rb + P + 12, 0xffffffff, True, 'impossible length', rb),
    ('RECORDS n 0', rb + P + 12, 0, True, 'impossible length', rb),
    ('RECORDS raw_size 0xffffffff', rb + P + 16, 0xffffffff, True, 'impossible length', rb),
    ('RECORDS raw_size 0', rb + P + 16, 0, True, 'impossible length', rb),
    ('INTERVAL n_counters 0xffffffff', iv + P + 12 + 48, 0xffffffff, True, 'impossible length', iv),
    ('END total_records wrong', eb + P + 12, 0xfffffff, True, 'impossible length', eb),
    ('RECORDS frame size 12 + length', rb + 4, None, True, 'impossible length', rb),
    ('INTERVAL frame size 20', iv + 4, 20, True, 'impossible length', iv),
    ('INTERVAL frame magic', iv, SKIP ^ 1, True, 'impossible length', iv),
    ('RECORDS frame magic, a zstd frame magic', rb, 0xFD2FB528, True,
     'impossible length', rb),
]
for name, off, val, do_fix, problem, want_off in bcases:
    d = bytearray(D)
    if val is None:  # the whole block in the frame, as for other types
        val = 12 + u32(D, rb + P + 4)
    struct.pack_into('<I', d, off, val)
    d = fix(bytes(d)) if do_fix else bytes(d)
    p = write('blk.ft.zst', d)
    if damaged(name, p, R, problem, off_eq=want_off,
               max_rows=rows_before(want_off)) is True:
        ok('block: %s -> %s at offset %d' % (name, problem, want_off))

# INTERVAL n_records absurd: the records that follow cannot add up.
d = bytearray(D)
struct.pack_into('<Q', d, iv + P + 12 + 40, 1 << 62)
p = write('nrec.ft.zst', fix(bytes(d)))
if damaged('INTERVAL n_records 2^62', p, R, 'impossible length', off_max=len(D),
           max_rows=rows_before(len(D))) is True:
    ok('block: INTERVAL n_records 2^62 -> impossible length')

# A 16 MiB block (the largest the format allows) of garbage, checksum
# correct: read, checked, rejected, within the memory limit.
big = (16 << 20)
d = bytearray(D[:rb]) + frame(20) + struct.pack('<HHII', 2, 0, big, 0) + \
    struct.pack('<II', 1, 53) + bytes(big - 8)
b = rb + P
struct.pack_into('<I', d, b + 8, crc32c(d[b + 12:], crc32c(d[b:b + 8])))
p = write('big.ft.zst', bytes(d))
if damaged('16 MiB RECORDS block of zeros', p, R,
           '(zstd|impossible length)', off_eq=rb, max_rows=rows_before(rb)) is True:
    ok('block: a 16 MiB garbage block with a correct checksum is rejected '
       'within %s' % ('%d MB of address space' % (MEMLIMIT_KB // 1024)
                      if MEMLIMIT_KB else 'time'))
os.unlink(p)

# Unknown block types: skippable (bit 15) is ignored, others rejected.
def insert_block(t, payload):
    blk = frame(12 + len(payload)) + \
        struct.pack('<HHII', t, 0, len(payload), 0) + payload
    return fix(D[:rb] + blk + D[rb:])
p = write('skip.ft.zst', insert_block(0x8001, b'future'))
rc, out, err, _ = run(['--format', 'csv', p])
if rc == 0 and rows(out) == R:
    ok('block: unknown skippable type 0x8001 is ignored')
else:
    bad('block: unknown skippable type 0x8001: exit %s' % rc, err.decode())
p = write('unk.ft.zst', insert_block(0x0009, b'future'))
if damaged('unknown type 9', p, R, 'file needs a newer reader', off_eq=rb,
           max_rows=rows_before(rb)) is True:
    ok('block: unknown type 9 -> needs a newer reader at offset %d' % rb)

# Bytes after END.
p = write('trail.ft.zst', D + b'\0')
if damaged('one byte after END', p, R, '(impossible length|file is truncated)',
           off_max=len(D)) is True:
    ok('one byte after END -> error, exit 1')

# ---- not files ----------------------------------------------------------
p = write('empty.ft.zst', b'')
if damaged('zero-length file', p, R, 'file is truncated', off_eq=0, max_rows=0) is True:
    ok('zero-length file -> truncated at offset 0')

def not_file(name, path, reason):
    """A system error: exit 1, "PATH: cannot read: <the errno's text>",
    nothing on stdout (not even a header), no generic I/O error."""
    rc, out, err, _ = run(['--format', 'csv', path])
    e = err.decode(errors='replace')
    want = 'flowcap-read: %s: cannot read: %s' % (path, reason)
    if rc is None:
        return bad(name + ': no answer within 10 s (hangs)')
    if rc == 1 and e.splitlines() == [want] and out == b'':
        ok('%s -> "%s", exit 1, no output' % (name, reason))
    else:
        bad('%s: exit %s, want 1 and only "%s"' % (name, rc, want),
            e + '\nstdout: ' + out.decode(errors='replace')[:200])

# Version 1 files are still read: the same rows.
v1 = bytearray()
hl = u32(D, P + 8)
v1 += D[P:P + hl]
struct.pack_into('<HH', v1, 4, 1, 0)  # version 1.0
o = P + hl
while o < len(D):
    ln = u32(D, o + P + 4)
    v1 += D[o + P:o + P + 12 + ln]
    o += P + 12 + ln
struct.pack_into('<I', v1, hl - 4, crc32c(v1[:hl - 4]))
struct.pack_into('<I', v1, len(v1) - 32 + 12 + 16, crc32c(v1[:len(v1) - 32]))
b = len(v1) - 32
struct.pack_into('<I', v1, b + 8, crc32c(v1[b + 12:], crc32c(v1[b:b + 8])))
p = write('v1.ft.zst', bytes(v1))
rc, out, err, _ = run(['--format', 'csv', p])
rc2, out2, _, _ = run(['--stats', p])
if rc == 0 and rows(out) == R and b'version=1.0' in out2:
    ok('the same file in the version 1 layout: the same %d rows' % len(R))
else:
    bad('version 1 layout: exit %s' % rc, err.decode())

# Open errors: the system's words, never a generic "input/output error".
not_file('/dev/zero', '/dev/zero', 'not a regular file')
fifo = os.path.join(TMP, 'fifo.ft.zst')
os.mkfifo(fifo)
not_file('a FIFO with no writer', fifo, 'not a regular file')
not_file('a missing file', os.path.join(TMP, 'nope.ft.zst'),
         'No such file or directory')
os.chmod(os.path.join(TMP, 'cut.ft.zst'), 0)
if os.geteuid() != 0:
    not_file('an unreadable file', os.path.join(TMP, 'cut.ft.zst'),
             'Permission denied')
else:
    print('note: running as root, the "Permission denied" case is not run')
os.chmod(os.path.join(TMP, 'cut.ft.zst'), 0o644)

# ---- damaged among intact files: the intact ones are still read ---------
others = [f for f in data if f != F]
cut = write('cut.ft.zst', D[:len(D) // 2])
flip = bytearray(D); flip[len(D) // 3] ^= 0x10
flip = write('flip.ft.zst', bytes(flip))
rc, out, err, _ = run(['--format', 'csv'] + others + [cut, flip])
e = err.decode()
want = sorted(r for f in others for r in full[f])
got = sorted(rows(out))
if rc == 1 and cut + ': file is truncated' in e and flip + ': ' in e and \
        all(r in got for r in want):
    ok('%d intact files with a cut and a flipped one: every intact row, both '
       'damaged files named, exit 1' % len(others))
else:
    bad('intact and damaged files together: exit %s' % rc, e)

# --verify and --stats on a damaged file: exit 1, never "OK".
for opt in ('--verify', '--stats'):
    rc, out, err, _ = run([opt, flip])
    if rc == 1 and not out.decode().startswith('OK') and flip in err.decode():
        ok('%s on a damaged file: exit 1, no OK' % opt)
    else:
        bad('%s on a damaged file: exit %s' % (opt, rc), err.decode())

print('%d passed, %d failed' % (n_ok, n_bad))
sys.exit(1 if n_bad else 0)
EOF

set +e
python3 "$TMP/hostile.py" "$FCREAD" "$TMP" "$MEMLIMIT_KB" "$out"/*.ft.zst \
	>"$TMP/py.log" 2>&1
rc=$?
set -e
grep -v '^     ' "$TMP/py.log" | grep -v '^[0-9]* passed' || true
grep -A3 '^FAIL' "$TMP/py.log" | grep '^     ' | head -40 || true
PASS=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$TMP/py.log")
FAIL=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$TMP/py.log")
[ -n "$PASS" ] || { PASS=0; FAIL=1; tail -20 "$TMP/py.log"; }
[ "$rc" -eq 0 ] || [ "$FAIL" -gt 0 ] || FAIL=1
finish
