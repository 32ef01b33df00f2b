#!/usr/bin/python3
"""Generate the revision bundles the unpack tests use, good and hostile.

usage: gen-bundles.py [--outside DIR] [--small] OUTDIR

Everything is made here at test time from the Python standard library; no
binary bundle is checked in.  --outside names the absolute directory that
the "absolute path" cases point into (default /etc, as an attacker would;
the unit tests pass a sentinel directory they watch).  --small leaves out
the large bundles (bombs, thousands of entries) for use as fuzzing seeds.

The expected results live in tests/unit/test_unpack.c; keep them in step.
"""
import argparse
import gzip
import io
import os
import random
import stat
import struct
import tarfile
import zipfile

MTIME = 1500000000  # every entry's mtime, so the tests can check it
DIR_MTIME = 1400000000


# --- tar helpers ----------------------------------------------------------

def tinfo(name, kind=tarfile.REGTYPE, mode=0o644, size=0, link="", uid=0,
          gid=0, mtime=MTIME):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.size = size
    ti.linkname = link
    ti.uid, ti.gid = uid, gid
    ti.uname = ti.gname = ""
    ti.mtime = mtime
    return ti


class Tar:
    """A tar archive being built from a list of members."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.tf = tarfile.open(fileobj=self.buf, mode="w",
                               format=tarfile.PAX_FORMAT)

    def file(self, name, data=b"", mode=0o644, **kw):
        if isinstance(data, str):
            data = data.encode()
        self.tf.addfile(tinfo(name, mode=mode, size=len(data), **kw),
                        io.BytesIO(data))

    def dir(self, name, mode=0o755, **kw):
        self.tf.addfile(tinfo(name, tarfile.DIRTYPE, mode=mode, **kw))

    def symlink(self, name, target, **kw):
        self.tf.addfile(tinfo(name, tarfile.SYMTYPE, mode=0o777, link=target,
                              **kw))

    def hardlink(self, name, target):
        self.tf.addfile(tinfo(name, tarfile.LNKTYPE, link=target))

    def special(self, name, kind):
        ti = tinfo(name, kind, mode=0o600)
        ti.devmajor, ti.devminor = 1, 3
        self.tf.addfile(ti)

    def raw(self, ti, data=b""):
        self.tf.addfile(ti, io.BytesIO(data))

    def bytes(self):
        self.tf.close()
        return self.buf.getvalue()


def write(outdir, name, data):
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(data)


def write_tar(outdir, name, tar):
    data = tar.bytes()
    if name.endswith(".tgz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    write(outdir, name, data)


# --- zip helpers ----------------------------------------------------------

class Zip:
    def __init__(self):
        self.buf = io.BytesIO()
        self.zf = zipfile.ZipFile(self.buf, "w", zipfile.ZIP_DEFLATED)

    def _add(self, name, data, st_mode, dos=0, unix=True):
        zi = zipfile.ZipInfo(name, date_time=(2017, 7, 14, 2, 40, 0))
        zi.create_system = 3 if unix else 0
        zi.external_attr = ((st_mode << 16) if unix else 0) | dos
        zi.compress_type = zipfile.ZIP_DEFLATED
        self.zf.writestr(zi, data)

    def file(self, name, data=b"", mode=0o644, unix=True):
        if isinstance(data, str):
            data = data.encode()
        self._add(name, data, stat.S_IFREG | mode, unix=unix)

    def dir(self, name, mode=0o755, unix=True):
        self._add(name.rstrip("/") + "/", b"", stat.S_IFDIR | mode, dos=0x10,
                  unix=unix)

    def symlink(self, name, target):
        self._add(name, target.encode(), stat.S_IFLNK | 0o777)

    def special(self, name, fmt):
        self._add(name, b"", fmt | 0o600)

    def bytes(self):
        self.zf.close()
        return self.buf.getvalue()


# --- the good tree --------------------------------------------------------
# tests/unit/test_unpack.c checks exactly this.

def good_tar(with_hardlink=True):
    t = Tar()
    t.file("appspec.yml", "version: 0.0\nos: linux\n")
    t.file(".hidden", "dot\n", mode=0o600)
    t.dir("scripts/")
    t.file("scripts/start.sh", "#!/bin/sh\necho start\n", mode=0o755)
    t.dir("deep/")
    t.dir("deep/a/", mtime=DIR_MTIME)
    t.file("deep/a/b/c/leaf.txt", "leaf\n")  # b and c are implied
    t.symlink("deep/a/up-link", "../../appspec.yml")
    t.symlink("link-to-leaf", "deep/a/b/c/leaf.txt")
    t.file("setuid-tool", "#!/bin/sh\n", mode=0o4755)
    t.dir("setgid-dir/", mode=0o2775)
    t.dir("sticky/", mode=0o1777)
    t.dir("readonly/", mode=0o555)
    t.file("readonly/file.txt", "ro\n", mode=0o444)
    t.file("empty", "")
    t.file("donn\u00e9es/\u00e9t\u00e9.txt", "utf8\n")
    if with_hardlink:
        t.hardlink("hard.txt", "appspec.yml")
    return t


def good_zip():
    z = Zip()
    z.file("appspec.yml", "version: 0.0\nos: linux\n")
    z.file(".hidden", "dot\n", mode=0o600)
    z.dir("scripts/")
    z.file("scripts/start.sh", "#!/bin/sh\necho start\n", mode=0o755)
    z.dir("deep/")
    z.dir("deep/a/")
    z.file("deep/a/b/c/leaf.txt", "leaf\n")
    z.symlink("deep/a/up-link", "../../appspec.yml")
    z.symlink("link-to-leaf", "deep/a/b/c/leaf.txt")
    z.file("setuid-tool", "#!/bin/sh\n", mode=0o4755)
    z.dir("setgid-dir/", mode=0o2750)
    z.dir("sticky/", mode=0o1777)
    z.dir("readonly/", mode=0o555)
    z.file("readonly/file.txt", "ro\n", mode=0o444)
    z.file("empty", "")
    z.file("donn\u00e9es/\u00e9t\u00e9.txt", "utf8\n")
    # Made on Windows: no Unix mode, so 0644 and 0755.
    z.dir("windows-dir/", unix=False)
    z.file("windows-dir/notes.txt", "crlf\r\n", unix=False)
    return z


def good_directory(path):
    """The good tree as a directory bundle (hard.txt is a second link)."""
    def f(rel, data, mode=0o644):
        p = os.path.join(path, rel)
        with open(p, "wb") as fh:
            fh.write(data.encode())
        os.chmod(p, mode)
        os.utime(p, (MTIME, MTIME))

    os.makedirs(path)
    f("appspec.yml", "version: 0.0\nos: linux\n")
    f(".hidden", "dot\n", 0o600)
    os.mkdir(os.path.join(path, "scripts"))
    f("scripts/start.sh", "#!/bin/sh\necho start\n", 0o755)
    os.makedirs(os.path.join(path, "deep/a/b/c"))
    f("deep/a/b/c/leaf.txt", "leaf\n")
    os.symlink("../../appspec.yml", os.path.join(path, "deep/a/up-link"))
    os.symlink("deep/a/b/c/leaf.txt", os.path.join(path, "link-to-leaf"))
    f("setuid-tool", "#!/bin/sh\n", 0o4755)
    for d, mode in (("setgid-dir", 0o2775), ("sticky", 0o1777)):
        os.mkdir(os.path.join(path, d))
        os.chmod(os.path.join(path, d), mode)
    os.mkdir(os.path.join(path, "readonly"))
    f("readonly/file.txt", "ro\n", 0o444)
    f("empty", "")
    os.mkdir(os.path.join(path, "donn\u00e9es"))
    f("donn\u00e9es/\u00e9t\u00e9.txt", "utf8\n")
    os.link(os.path.join(path, "appspec.yml"), os.path.join(path, "hard.txt"))
    for d in ("scripts", "deep", "deep/a", "deep/a/b", "deep/a/b/c",
              "donn\u00e9es"):
        os.chmod(os.path.join(path, d), 0o755)
    os.chmod(os.path.join(path, "readonly"), 0o555)
    os.utime(os.path.join(path, "deep/a"), (DIR_MTIME, DIR_MTIME))


# --- generation -----------------------------------------------------------

def zeros(total, chunk=1 << 20):
    while total > 0:
        n = min(chunk, total)
        yield bytes(n)
        total -= n


def sparse_tar(real_size, blocks):
    """A PAX (GNU 0.1) sparse member: blocks is [(offset, data)]."""
    t = Tar()
    data = b"".join(d for _, d in blocks)
    ti = tinfo("sparse.bin", size=len(data))
    ti.pax_headers = {
        "GNU.sparse.size": str(real_size),
        "GNU.sparse.numblocks": str(len(blocks)),
        "GNU.sparse.map": ",".join("%d,%d" % (o, len(d)) for o, d in blocks),
        "GNU.sparse.name": "sparse.bin",
    }
    t.raw(ti, data)
    return t


def zero_tgz(members):
    """A tar.gz of files of zeros, [(name, MiB)], built from gzip members
    (a gzip file may hold several) so no step handles the whole size."""
    mib = gzip.compress(bytes(1 << 20), compresslevel=9, mtime=0)
    out = []
    for name, size in members:
        ti = tinfo(name, size=size << 20)
        out.append(gzip.compress(ti.tobuf(tarfile.PAX_FORMAT), mtime=0))
        out.append(mib * size)
    out.append(gzip.compress(bytes(tarfile.RECORDSIZE), mtime=0))
    return b"".join(out)


def lying_zip(real, claimed):
    """One deflated entry of `real` zero bytes whose headers say `claimed`."""
    z = zipfile.ZipFile(io.BytesIO(), "w")
    buf = z.fp
    zi = zipfile.ZipInfo("bomb.bin", date_time=(2017, 7, 14, 2, 40, 0))
    zi.compress_type = zipfile.ZIP_DEFLATED
    zi.create_system = 3
    zi.external_attr = (stat.S_IFREG | 0o644) << 16
    with z.open(zi, "w", force_zip64=False) as w:
        for chunk in zeros(real):
            w.write(chunk)
    z.close()
    data = bytearray(buf.getvalue())
    # local header: uncompressed size at offset 22
    assert data[0:4] == b"PK\x03\x04"
    flags = struct.unpack_from("<H", data, 6)[0]
    struct.pack_into("<I", data, 22, claimed)
    if flags & 0x08:  # data descriptor after the data
        dd = data.rfind(b"PK\x07\x08")
        struct.pack_into("<I", data, dd + 12, claimed)
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, claimed)
    return bytes(data)


def gen_good(outdir):
    write_tar(outdir, "good.tar", good_tar())
    write_tar(outdir, "good.tgz", good_tar())
    write(outdir, "good.zip", good_zip().bytes())
    good_directory(os.path.join(outdir, "good-dir"))

    # bzip2 and xz are read by the same tar reader
    import bz2
    import lzma
    write(outdir, "good.tar.bz2", bz2.compress(good_tar().bytes()))
    write(outdir, "good.tar.xz", lzma.compress(good_tar().bytes()))

    t = Tar()
    t.file("owned.txt", "mine\n", uid=1234, gid=5678)
    t.dir("owned-dir/", uid=4321, gid=8765)
    t.symlink("owned-link", "owned.txt", uid=1111, gid=2222)
    write_tar(outdir, "owned.tar", t)

    # strip rules (v1 5.6 with bug 32 fixed)
    t = Tar()
    t.dir("top/")
    t.file("top/appspec.yml", "version: 0.0\n")
    t.dir("top/scripts/")
    t.file("top/scripts/run.sh", "#!/bin/sh\n", mode=0o755)
    t.symlink("top/run", "scripts/run.sh")
    write_tar(outdir, "strip-yes.tgz", t)

    t = Tar()
    t.dir("top/")
    t.file("top/my-appspec-notes.txt", "not an appspec\n")
    t.file("top/index.html", "<p>\n")
    write_tar(outdir, "strip-no-appspec.tgz", t)

    z = Zip()
    z.dir("top/")
    z.file("top/appspec.yml", "version: 0.0\n")
    z.dir("__MACOSX/")
    z.file("__MACOSX/top/._appspec.yml", "\0\5\26\7")
    write(outdir, "strip-macosx.zip", z.bytes())

    t = Tar()
    t.dir("top/")
    t.file("top/deploy-spec.yml", "version: 0.0\n")
    write_tar(outdir, "strip-custom.tgz", t)

    z = Zip()
    z.file("top/appspec.yaml", "version: 0.0\n")  # top/ implied
    write(outdir, "strip-yaml.zip", z.bytes())

    t = Tar()
    t.dir("top/")
    t.file("top/real.yml", "version: 0.0\n")
    t.symlink("top/appspec.yml", "real.yml")
    write_tar(outdir, "strip-appspec-symlink.tgz", t)

    t = Tar()
    t.dir("top/")
    t.file("top/appspec.yml", "version: 0.0\n")
    t.dir("top/again/")
    t.file("top/again/appspec.yml", "version: 0.0\n")
    write_tar(outdir, "strip-one-level.tgz", t)

    t = Tar()
    t.dir("./", mode=0o700)
    t.dir("./top/", mode=0o750)
    t.file("./top/appspec.yml", "version: 0.0\n")
    write_tar(outdir, "strip-dot.tgz", t)

    t = Tar()
    t.dir("./", mode=0o700)
    t.file("./appspec.yml", "version: 0.0\n")
    write_tar(outdir, "dot-entry.tar", t)

    os.makedirs(os.path.join(outdir, "strip-dir/top"))
    with open(os.path.join(outdir, "strip-dir/top/appspec.yml"), "w") as f:
        f.write("version: 0.0\n")

    # duplicates
    t = Tar()
    t.file("f", "one\n")
    t.file("f", "two\n", mode=0o600)
    t.file("target", "orig\n")
    t.symlink("s", "target")
    t.file("s", "data\n")
    t.dir("d/", mode=0o700)
    t.file("d/x", "x\n")
    t.dir("d/", mode=0o750)
    write_tar(outdir, "duplicates.tar", t)

    # holes: 3 MiB, data at 1 MiB and 2 MiB, ending in a hole
    write_tar(outdir, "sparse.tar", sparse_tar(
        3 << 20, [(1 << 20, b"A" * 4096), (2 << 20, b"B" * 10)]))

    write(outdir, "empty.zip", Zip().bytes())

    # 9 MiB in three files, for the progress callback
    write(outdir, "nine-mib.tgz", zero_tgz([("a", 3), ("b", 3), ("c", 3)]))


def gen_hostile(outdir, outside, small):
    def tar(name, build):
        t = Tar()
        build(t)
        write_tar(outdir, name, t)

    def zipf(name, build):
        z = Zip()
        build(z)
        write(outdir, name, z.bytes())

    tar("abs-path.tar", lambda t: t.file(outside + "/abs-evil", "evil\n"))
    tar("dotdot.tar", lambda t: t.file("../evil", "evil\n"))
    tar("dotdot-deep.tar", lambda t: (t.file("a/ok", "ok\n"),
                                      t.file("a/../../evil", "evil\n")))
    tar("symlink-abs-then-file.tar", lambda t: (
        t.symlink("link", outside), t.file("link/passwd", "evil\n")))
    tar("symlink-up-then-file.tar", lambda t: (
        t.symlink("up", ".."), t.file("up/evil", "evil\n")))
    tar("symlink-inside-then-file.tar", lambda t: (
        t.dir("sub/"), t.symlink("inner", "sub"),
        t.file("inner/evil", "evil\n")))
    tar("symlink-abs.tar", lambda t: t.symlink("abslink", "/etc"))
    tar("symlink-rel-escape.tar", lambda t: (
        t.dir("a/"), t.symlink("a/b", "../../..")))
    tar("symlink-dotdot-after-name.tar", lambda t: (
        t.dir("d/"), t.symlink("d/s", "d/../..")))
    tar("hardlink-abs.tar", lambda t: t.hardlink("hard", outside + "/passwd"))
    tar("hardlink-dotdot.tar", lambda t: t.hardlink("hard", "../evil"))
    tar("hardlink-missing.tar", lambda t: t.hardlink("hard", "not-there"))
    tar("hardlink-through-symlink.tar", lambda t: (
        t.dir("sub/"), t.file("sub/f", "f\n"), t.symlink("d", "sub"),
        t.hardlink("hard", "d/f")))
    tar("hardlink-to-dir.tar", lambda t: (
        t.dir("dir/"), t.hardlink("hard", "dir")))
    tar("chardev.tar", lambda t: t.special("null", tarfile.CHRTYPE))
    tar("blockdev.tar", lambda t: t.special("sda", tarfile.BLKTYPE))
    tar("fifo.tar", lambda t: t.special("pipe", tarfile.FIFOTYPE))
    tar("file-then-dir.tar", lambda t: (
        t.file("a", "file\n"), t.file("a/b", "evil\n")))
    tar("dir-then-file.tar", lambda t: (
        t.dir("d/"), t.file("d", "file\n")))
    tar("symlink-then-dir.tar", lambda t: (
        t.dir("sub/"), t.symlink("s", "sub"), t.dir("s/")))
    tar("dot-as-file.tar", lambda t: t.file(".", "what\n"))
    # a line break would split a cleanup line in two (issue 13)
    tar("newline-dir.tar", lambda t: (
        t.dir("app\n/etc/"), t.file("app\n/etc/x", "x\n")))
    tar("cr-file.tar", lambda t: t.file("a\rb", "x\n"))

    # a tgz cut in the middle of big.bin's data
    t = Tar()
    t.file("first.txt", "first\n")
    t.file("big.bin", random.Random(7).randbytes(1 << 18))
    data = gzip.compress(t.bytes(), mtime=0)
    write(outdir, "truncated.tgz", data[: len(data) * 2 // 3])

    write(outdir, "empty.tar", b"")
    write(outdir, "not-a-tar.tgz", gzip.compress(b"hello, not a tar\n" * 64))

    # zip
    zipf("zip-dotdot.zip", lambda z: z.file("../evil", "evil\n"))
    zipf("zip-abs.zip", lambda z: z.file(outside + "/zip-evil", "evil\n"))
    zipf("zip-symlink-escape.zip", lambda z: z.symlink("esc", "../../../etc"))
    zipf("zip-symlink-then-file.zip", lambda z: (
        z.dir("sub/"), z.symlink("zl", "sub"), z.file("zl/evil", "evil\n")))
    zipf("zip-socket.zip", lambda z: z.special("sock", stat.S_IFSOCK))
    zipf("zip-chardev.zip", lambda z: z.special("null", stat.S_IFCHR))
    zipf("zip-newline-dir.zip", lambda z: (
        z.dir("app\n/etc/"), z.file("app\n/etc/x", "x\n")))

    good = bytearray(good_zip().bytes())
    # flip bytes inside scripts/start.sh's compressed data
    local = good.find(b"scripts/start.sh")
    assert local > 0
    start = local + len("scripts/start.sh") + 4
    for i in range(start, start + 8):
        good[i] ^= 0x5A
    write(outdir, "corrupt.zip", bytes(good))
    write(outdir, "not-a-zip.zip", b"PK\x03\x04 but nothing else " * 10)

    # directory bundles
    d = os.path.join(outdir, "hostile-dir-symlink")
    os.makedirs(os.path.join(d, "sub"))
    with open(os.path.join(d, "sub/ok.txt"), "w") as f:
        f.write("ok\n")
    os.symlink("../../..", os.path.join(d, "sub/escape"))
    d = os.path.join(outdir, "hostile-dir-newline")
    os.makedirs(os.path.join(d, "app\n", "etc"))
    with open(os.path.join(d, "app\n", "etc", "x"), "w") as f:
        f.write("x\n")
    d = os.path.join(outdir, "hostile-dir-fifo")
    os.makedirs(d)
    os.mkfifo(os.path.join(d, "pipe"))

    # strip would make top/back leave the archive
    t = Tar()
    t.dir("top/")
    t.file("top/appspec.yml", "version: 0.0\n")
    t.symlink("top/back", "../top/appspec.yml")
    write_tar(outdir, "strip-escape.tgz", t)

    if small:
        return

    # 1 GiB of zeros in one member: about 1 MiB compressed
    write(outdir, "bomb.tgz", zero_tgz([("zeros.bin", 1024)]))
    # 200 members of 1 MiB each: no single header is over the limit
    write(outdir, "bomb-many.tgz", zero_tgz(
        [("zeros-%03d.bin" % i, 1) for i in range(200)]))

    # headers say 1000 bytes, the data inflates to 64 MiB
    write(outdir, "zip-lying-bomb.zip", lying_zip(64 << 20, 1000))

    # a hole of 1 TiB costs nothing to store
    write_tar(outdir, "sparse-bomb.tar", sparse_tar(1 << 40, [(0, b"x")]))

    t = Tar()
    for i in range(5000):
        t.file("many/%04d" % i)
    write_tar(outdir, "many-entries.tar", t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outside", default="/etc")
    ap.add_argument("--small", action="store_true")
    ap.add_argument("outdir")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    gen_good(args.outdir)
    gen_hostile(args.outdir, args.outside.rstrip("/") or "/", args.small)


if __name__ == "__main__":
    main()
