# A board with a ROMFS partition, booting (unix port; host_tests/test_deploy_romfs.py).
#
#     ROMFS_IMAGE=build/pico_w.romfs micropython -X heapsize=... romfs_boot.py   (cwd: the fs)
#
# What the firmware of such a board (MicroPython >= 1.25) does before boot.py: mount the
# ROMFS partition at /rom as a vfs.VfsRom and put /rom and /rom/lib on sys.path, just after
# '.frozen' (the board's order is ['', '.frozen', '/rom', '/rom/lib', '/lib']: files in the
# filesystem's root come first, /lib last). Then boot.py and main.py from the current
# directory (the board's filesystem), as a board does.
#
# There is no flash here: the image is read into a bytearray in the heap (a board maps its
# partition into the address space instead). VfsRom executes the bytecode in place either
# way, so what the modules add to the heap is what they add on a board; the image's own
# bytes are counted in gc.mem_alloc() here and printed, to be subtracted.
import gc
import os
import sys
import vfs

_path = os.getenv("ROMFS_IMAGE")
_size = os.stat(_path)[6]
_image = bytearray(_size)  # read in place: no second, growing copy
with open(_path, "rb") as _f:
    _f.readinto(_image)
vfs.mount(vfs.VfsRom(_image), "/rom")

if len(sys.path) > 1 and sys.path[0] == sys.path[1]:  # this script's dir, also on MICROPYPATH
    del sys.path[0]
_at = sys.path.index(".frozen") + 1 if ".frozen" in sys.path else len(sys.path)
for _p in ("/rom/lib", "/rom"):
    if _p not in sys.path:
        sys.path.insert(_at, _p)
gc.collect()
print("@romfs image %d bytes, mounted at /rom; heap %d; sys.path %r" % (_size, gc.mem_alloc(), sys.path))
del _path, _size, _f, _at, _p  # _image stays: the mounted VfsRom uses it


import vboard_boot  # noqa: E402,F401  boot.py, then main.py, from the filesystem dir
